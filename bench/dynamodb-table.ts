/** The table both DynamoDB benchmarks use (bench:dynamodb over HTTP, bench:dynamodb-engine without). */
export const BENCH_TABLE = {
  TableName: 'bench',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'N' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  ProvisionedThroughput: { ReadCapacityUnits: 1000, WriteCapacityUnits: 1000 },
};
