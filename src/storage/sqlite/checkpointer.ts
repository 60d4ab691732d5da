/**
 * The SQLite Store's background checkpointer, a worker thread with its own connection: on each
 * 'checkpoint' message it copies the committed WAL frames into the database file with
 * `PRAGMA wal_checkpoint(PASSIVE)` (which never waits for readers or writers) and answers with
 * the result. Run on the event loop, a checkpoint (its page writes and two fsyncs) stalls every
 * request for milliseconds; here it runs beside it. On 'close' it closes its connection and
 * exits. Durability does not depend on it: commits are in the WAL before they are acknowledged.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

const { path, driver } = workerData as { path: string; driver: string };
const Database = createRequire(import.meta.url)(driver) as typeof BetterSqlite3;
const db = new Database(path);
const port = parentPort!;

port.on('message', (msg: string) => {
  if (msg === 'checkpoint') {
    try {
      const [r] = db.pragma('wal_checkpoint(PASSIVE)') as {
        busy: number;
        log: number;
        checkpointed: number;
      }[];
      port.postMessage({ ok: true, ...r });
    } catch (err) {
      port.postMessage({ ok: false, error: String(err) });
    }
  } else if (msg === 'close') {
    db.close();
    port.close();
  }
});
