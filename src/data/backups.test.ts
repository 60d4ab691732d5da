/**
 * Backups and point-in-time recovery against the engine and a SQLite Store, on a manual clock:
 * restores at many times, the log folded into the base after the recovery period, the
 * restorable window, and the Store left clean after DeleteTable / disabling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { openSqliteStore } from '../storage/sqlite/sqlite-store.js';
import { DynamoEngine } from './engine.js';
import { PITR_STATE } from './model.js';

const s = { accountId: '000000000000', region: 'us-east-1' };
const DAY = 86_400_000;

async function setup(t: { after(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-ddb-backups-'));
  const clock = new ManualClock();
  const store = await openSqliteStore({ dataDir: dir, clock, logger: silentLogger });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const e = new DynamoEngine({ store, clock, logger: silentLogger });
  await e.createTable(s, {
    TableName: 'src',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  const put = (pk: string, v: number) =>
    e.putItem(s, { TableName: 'src', Item: { pk: { S: pk }, v: { N: String(v) } } });
  const del = (pk: string) => e.deleteItem(s, { TableName: 'src', Key: { pk: { S: pk } } });
  const dump = async (table: string) => {
    const out: Record<string, string> = {};
    for (const it of ((await e.scan(s, { TableName: table })) as any).Items) out[it.pk.S] = it.v.N;
    return out;
  };
  return { e, clock, store, put, del, dump };
}

test('PITR restores the exact state at many times, before and after the log is folded', async (t) => {
  const { e, clock, store, put, del, dump } = await setup(t);
  await put('before', 0);
  await e.backups.updateContinuousBackups(s, {
    TableName: 'src',
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 2 },
  });
  const enabledAt = clock.now();
  // One change a day for 5 days, each state remembered.
  const states: { at: number; state: Record<string, string> }[] = [];
  for (let d = 0; d < 5; d++) {
    clock.advance(DAY / 2);
    await put(`k${d}`, d);
    await put('hot', d);
    if (d > 0) await del(`k${d - 1}`);
    states.push({ at: clock.now(), state: await dump('src') });
    clock.advance(DAY / 2);
  }
  const desc = (await e.backups.describeContinuousBackups(s, { TableName: 'src' }))
    .ContinuousBackupsDescription;
  assert.equal(desc.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus, 'ENABLED');
  assert.equal(desc.PointInTimeRecoveryDescription.RecoveryPeriodInDays, 2);
  assert.equal(
    desc.PointInTimeRecoveryDescription.EarliestRestorableDateTime,
    (clock.now() - 2 * DAY) / 1000,
  );
  // Before folding, everything in the last 2 days restores; older is out of the window.
  const restore = async (name: string, at: number) => {
    await e.backups.restoreTableToPointInTime(s, {
      SourceTableName: 'src',
      TargetTableName: name,
      RestoreDateTime: at / 1000,
    });
    return dump(name);
  };
  for (const [i, st] of states.entries())
    if (st.at >= clock.now() - 2 * DAY) assert.deepEqual(await restore(`restored-${i}`, st.at), st.state);
  await assert.rejects(restore('old', enabledAt + DAY), { code: 'InvalidRestoreTimeException' });
  // Folding moves what is older than 2 days into the base; later times still restore exactly.
  await e.sweepTtl();
  const base = (await store.get<{ baseAt: number }>(PITR_STATE, (await e.tables.get(s, 'src')).pitr!.log))!;
  assert.equal(base.baseAt, clock.now() - 2 * DAY);
  assert.deepEqual(await restore('after-fold', states[4].at), states[4].state);
  assert.deepEqual(await restore('after-fold-3', states[3].at), states[3].state);
  // Disabling removes the log; DeleteTable leaves no PITR rows behind.
  const { pitr } = await e.tables.get(s, 'src');
  await e.backups.updateContinuousBackups(s, {
    TableName: 'src',
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
  });
  assert.equal(await store.count(pitr!.log), 0);
  assert.equal(await store.count(pitr!.base), 0);
  assert.equal(await store.get(PITR_STATE, pitr!.log), undefined);
  await assert.rejects(restore('off', clock.now()), { code: 'PointInTimeRecoveryUnavailableException' });
});

test('a backup is one consistent snapshot that outlives its table', async (t) => {
  const { e, put, dump } = await setup(t);
  for (let i = 0; i < 1200; i++) await put(`p${i}`, i);
  const { BackupDetails } = await e.backups.createBackup(s, { TableName: 'src', BackupName: 'snap' });
  await put('later', 1);
  await e.deleteTable(s, { TableName: 'src' });
  const d = await e.backups.describeBackup(s, { BackupArn: BackupDetails.BackupArn });
  assert.equal(d.BackupDescription.SourceTableDetails.ItemCount, 1200);
  await e.backups.restoreTableFromBackup(s, { BackupArn: BackupDetails.BackupArn, TargetTableName: 'back' });
  const got = await dump('back');
  assert.equal(Object.keys(got).length, 1200);
  assert.equal(got.later, undefined);
});
