/**
 * node dist/bench/dynamodb-engine.js [N] [ops] — the DynamoDB engine alone, without HTTP: the
 * operations of bench:dynamodb (PutItem, GetItem, Query `pk = :p AND sk > :s` Limit 10, and
 * their 40/40/20 mix) called on DynamoEngine in a loop, 16 at a time, against a SQLite Store in
 * a temp dir, with the built-in metrics on (as `nimbus up` runs them). Inputs are fresh
 * objects from JSON.parse, made before the timed loop. Prints the process CPU time per
 * operation (user + system, all threads: the WAL checkpointer included), median of 5 rounds of
 * N (default 10,000) operations each. A light job: little noise from HTTP, so engine changes of
 * a microsecond show; confirm with the locked bench:dynamodb.
 *   ops: comma-separated subset of put,get,query,mix (default all).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/logger.js';
import { createDynamoDb } from '../src/data/index.js';
import { MetricsEngine } from '../src/monitor/metrics.js';
import { openSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { BENCH_TABLE } from './dynamodb-table.js';

const N = Number(process.argv[2] ?? 10_000);
const OPS = (process.argv[3] ?? 'put,get,query,mix').split(',');
const CONCURRENCY = 16;
const ROUNDS = 5;

type Input = Record<string, unknown>;
const fresh = (v: unknown): Input => JSON.parse(JSON.stringify(v)) as Input;

const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-ddb-engine-'));
const store = await openSqliteStore({ dataDir: dir, clock: systemClock, logger: silentLogger });
const metrics = new MetricsEngine({ store, clock: systemClock, logger: silentLogger, compactIntervalMs: 0 });
const ddb = createDynamoDb({ store, clock: systemClock, logger: silentLogger, metrics });
const e = ddb.engine;
const scope = { accountId: '000000000000', region: 'us-east-1' };
const TableName = BENCH_TABLE.TableName;
await e.createTable(scope, BENCH_TABLE);
const item = (i: number) => ({
  pk: { S: `p${i % 20}` },
  sk: { N: String(i) },
  payload: { S: 'x'.repeat(200) },
  n: { N: String(i * 3) },
});
for (let i = 0; i < 500; i++) await e.putItem(scope, { TableName, Item: item(i) });
let seq = 500;

type Op = 'put' | 'get' | 'query';
const make: Record<Op, () => Input> = {
  put: () => fresh({ TableName, Item: item(seq++) }),
  get: () => {
    const i = Math.floor(Math.random() * seq);
    return fresh({ TableName, Key: { pk: { S: `p${i % 20}` }, sk: { N: String(i) } } });
  },
  query: () =>
    fresh({
      TableName,
      KeyConditionExpression: 'pk = :p AND sk > :s',
      ExpressionAttributeValues: { ':p': { S: `p${seq % 20}` }, ':s': { N: String(seq - 200) } },
      Limit: 10,
    }),
};
const call: Record<Op, (i: Input) => Promise<unknown>> = {
  put: (i) => e.putItem(scope, i),
  get: (i) => e.getItem(scope, i),
  query: (i) => e.query(scope, i),
};

function inputs(op: string, n: number): [Op, Input][] {
  return Array.from({ length: n }, () => {
    const r = Math.random();
    const o: Op = op !== 'mix' ? (op as Op) : r < 0.4 ? 'put' : r < 0.8 ? 'get' : 'query';
    return [o, make[o]()];
  });
}

async function round(op: string, n: number): Promise<number> {
  const list = inputs(op, n);
  const t0 = process.cpuUsage();
  let k = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (k < list.length) {
        const [o, input] = list[k++];
        await call[o](input);
      }
    }),
  );
  const c = process.cpuUsage(t0);
  return (c.user + c.system) / n;
}

for (const op of OPS) await round(op, 2000); // warm-up (JIT)
const results: Record<string, number[]> = {};
for (let r = 0; r < ROUNDS; r++) for (const op of OPS) (results[op] ??= []).push(await round(op, N));
for (const op of OPS) {
  const v = results[op].sort((a, b) => a - b);
  console.log(
    `${op.padEnd(5)} CPU µs/op: median ${v[ROUNDS >> 1].toFixed(1)} (rounds ${v.map((x) => x.toFixed(1)).join(' ')})`,
  );
}
await ddb.stop();
await metrics.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
