// Runs on a schedule (EventBridge): counts the notes and records the newest one's title.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';

const table = process.env.TABLE_NAME!;
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));

interface ScheduledEvent {
  'detail-type': string;
  time: string;
}

export async function handler(event: ScheduledEvent): Promise<{ count: number }> {
  const query = {
    TableName: table,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': 'NOTE' },
  };
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new QueryCommand({ ...query, Select: 'COUNT', ExclusiveStartKey: start }));
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  const newest = await db.send(new QueryCommand({ ...query, ScanIndexForward: false, Limit: 1 }));
  await db.send(
    new PutCommand({
      TableName: table,
      Item: { pk: 'STATS', sk: 'digest', at: event.time, count, newest: newest.Items?.[0]?.title ?? null },
    }),
  );
  console.log(JSON.stringify({ digest: event.time, count }));
  return { count };
}
