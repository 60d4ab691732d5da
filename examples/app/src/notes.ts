// The notes API: list, create, read and delete notes; creating and deleting publishes an event.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { bodyOf, json, type HttpEvent, type HttpResult } from './http.js';

const table = process.env.TABLE_NAME!;
const topicArn = process.env.TOPIC_ARN!;
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const sns = new SNSClient({});

export interface Note {
  id: string;
  title: string;
  text: string;
  createdAt: string;
  words?: number;
}

function toNote(item: Record<string, unknown>): Note {
  const { pk: _pk, sk: _sk, ...note } = item;
  return note as unknown as Note;
}

async function publish(type: 'NoteCreated' | 'NoteDeleted', note: Note): Promise<void> {
  await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Message: JSON.stringify({ type, note }),
      MessageAttributes: { eventType: { DataType: 'String', StringValue: type } },
    }),
  );
}

export async function handler(event: HttpEvent): Promise<HttpResult> {
  const id = event.pathParameters?.id;
  switch (event.routeKey) {
    case 'GET /notes': {
      const out = await db.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': 'NOTE' },
          ScanIndexForward: false,
          Limit: 50,
        }),
      );
      return json(200, { notes: (out.Items ?? []).map(toNote) });
    }
    case 'POST /notes': {
      const input = bodyOf(event) as Partial<Note> | undefined;
      const title = typeof input?.title === 'string' ? input.title.trim() : '';
      const text = typeof input?.text === 'string' ? input.text : '';
      if (!title || title.length > 200 || text.length > 10_000) {
        return json(400, {
          message: 'A note needs a title (1-200 characters) and at most 10,000 characters of text.',
        });
      }
      const createdAt = new Date().toISOString();
      // Sort keys that order by time: the newest note comes first when listing backwards.
      const note: Note = { id: `${createdAt}_${randomUUID().slice(0, 8)}`, title, text, createdAt };
      await db.send(new PutCommand({ TableName: table, Item: { pk: 'NOTE', sk: note.id, ...note } }));
      await publish('NoteCreated', note);
      return json(201, note);
    }
    case 'GET /notes/{id}': {
      const out = await db.send(new GetCommand({ TableName: table, Key: { pk: 'NOTE', sk: id } }));
      return out.Item ? json(200, toNote(out.Item)) : json(404, { message: `No note ${id}` });
    }
    case 'DELETE /notes/{id}': {
      const out = await db.send(
        new DeleteCommand({ TableName: table, Key: { pk: 'NOTE', sk: id }, ReturnValues: 'ALL_OLD' }),
      );
      if (!out.Attributes) return json(404, { message: `No note ${id}` });
      await publish('NoteDeleted', toNote(out.Attributes));
      return { statusCode: 204 };
    }
    case 'GET /stats': {
      const [words, digest] = await Promise.all(
        ['words', 'digest'].map((sk) =>
          db.send(new GetCommand({ TableName: table, Key: { pk: 'STATS', sk } })),
        ),
      );
      return json(200, {
        stage: process.env.STAGE,
        notes: words.Item?.notes ?? 0,
        words: words.Item?.words ?? 0,
        digest: digest.Item
          ? { at: digest.Item.at, count: digest.Item.count, newest: digest.Item.newest }
          : null,
      });
    }
    default:
      return json(404, { message: `No route ${event.routeKey}` });
  }
}
