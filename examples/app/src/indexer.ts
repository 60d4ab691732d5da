// Reads note events from the SQS queue the SNS topic fans out to, and keeps word counts:
// on each note, and in the STATS/words item. Reports partial batch failures.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Note } from './notes.js';

const table = process.env.TABLE_NAME!;
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));

interface SqsEvent {
  Records: { messageId: string; body: string; eventSource: string }[];
}

export function countWords(text: string): number {
  return text.split(/\s+/).filter((w) => w.length > 0).length;
}

async function apply(type: string, note: Note): Promise<void> {
  if (type === 'NoteCreated') {
    const words = countWords(`${note.title} ${note.text}`);
    await db
      .send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: 'NOTE', sk: note.id },
          UpdateExpression: 'SET words = :w',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':w': words },
        }),
      )
      .catch((e: Error) => {
        // Deleted before it was indexed: nothing to annotate.
        if (e.name !== 'ConditionalCheckFailedException') throw e;
      });
    await add(1, words);
  } else if (type === 'NoteDeleted') {
    await add(-1, -(note.words ?? countWords(`${note.title} ${note.text}`)));
  }
}

async function add(notes: number, words: number): Promise<void> {
  await db.send(
    new UpdateCommand({
      TableName: table,
      Key: { pk: 'STATS', sk: 'words' },
      UpdateExpression: 'ADD notes :n, words :w',
      ExpressionAttributeValues: { ':n': notes, ':w': words },
    }),
  );
}

export async function handler(event: SqsEvent): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    try {
      const { type, note } = JSON.parse(record.body) as { type: string; note: Note };
      await apply(type, note);
    } catch (e) {
      console.error('could not index message', record.messageId, e);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  console.log(
    JSON.stringify({
      indexed: event.Records.length - batchItemFailures.length,
      failed: batchItemFailures.length,
    }),
  );
  return { batchItemFailures };
}
