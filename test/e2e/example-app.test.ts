/**
 * The README's main job: `nimbus up --example` deploys examples/app (one SAM template: HTTP API,
 * TypeScript functions built with esbuild, DynamoDB, SNS -> SQS -> function, a schedule, a static
 * page). This deploys it the same way in-process and uses the app as a user would: the page, the
 * notes API, the word counts the queue-driven indexer keeps, the digest the schedule writes
 * (moved along with the virtual clock), then a redeploy that changes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deployExample } from '../../src/cli/example.js';
import { startTestServer } from '../helpers/server.js';
import { until as waitUntil } from '../helpers/until.js';

/** `until` with this file's default wait. */
const until = <T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000) => waitUntil(what, fn, ms);

interface Stats {
  stage: string;
  notes: number;
  words: number;
  digest: { at: string; count: number; newest: string | null } | null;
}

test('the example app deploys from its SAM template and works end to end', { timeout: 180_000 }, async () => {
  await using srv = await startTestServer();
  const lines: string[] = [];
  const result = await deployExample(srv.nimbus, (l) => lines.push(l));
  assert.equal(result.StackStatus, 'CREATE_COMPLETE', lines.join('\n'));
  const web = result.Outputs.find((o) => o.OutputKey === 'WebUrl')!.OutputValue;
  assert.equal(
    web,
    `${srv.endpoint}/_api/${result.Outputs.find((o) => o.OutputKey === 'ApiId')!.OutputValue}/`,
  );
  assert.ok(lines.some((l) => l.includes(`Open ${web}`)));

  const page = await fetch(web);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await page.text(), /<title>Nimbus Notes<\/title>/);

  const post = (body: unknown) => fetch(`${web}notes`, { method: 'POST', body: JSON.stringify(body) });
  assert.equal((await post({ text: 'no title' })).status, 400);
  const created = await post({ title: 'Groceries', text: 'milk eggs bread' });
  assert.equal(created.status, 201);
  const note = (await created.json()) as { id: string; title: string };
  const second = (await (await post({ title: 'Later', text: 'two words' })).json()) as { id: string };

  const list = (await (await fetch(`${web}notes`)).json()) as { notes: { id: string }[] };
  assert.deepEqual(
    list.notes.map((n) => n.id),
    [second.id, note.id],
    'newest first',
  );
  assert.equal((await fetch(`${web}notes/nope`)).status, 404);

  // SNS -> SQS -> IndexerFunction counts the words (title + text) of each note.
  const stats = () => fetch(`${web}stats`).then((r) => r.json() as Promise<Stats>);
  const counted = await until('the indexer', async () => {
    const s = await stats();
    return s.notes === 2 ? s : undefined;
  });
  assert.deepEqual(
    { stage: counted.stage, notes: counted.notes, words: counted.words },
    { stage: 'dev', notes: 2, words: 7 },
  );
  const one = (await (await fetch(`${web}notes/${encodeURIComponent(note.id)}`)).json()) as { words: number };
  assert.equal(one.words, 4);

  // The digest runs every minute: move the virtual clock instead of waiting.
  assert.equal(counted.digest, null);
  await fetch(`${srv.endpoint}/_nimbus/clock`, {
    method: 'POST',
    body: JSON.stringify({ advanceSeconds: 61 }),
  });
  const digest = await until('the digest', async () => (await stats()).digest ?? undefined);
  assert.equal(digest.count, 2);
  assert.equal(digest.newest, 'Later');

  // Deleting publishes too: the indexer takes the note's words off.
  assert.equal((await fetch(`${web}notes/${encodeURIComponent(note.id)}`, { method: 'DELETE' })).status, 204);
  const after = await until('the delete to be indexed', async () => {
    const s = await stats();
    return s.notes === 1 ? s : undefined;
  });
  assert.equal(after.words, 3);

  // `npm start` again: nothing to build, upload or change.
  const again: string[] = [];
  const second2 = await deployExample(srv.nimbus, (l) => again.push(l));
  assert.equal(second2.noChanges, true, again.join('\n'));
  assert.ok(again.some((l) => l.includes('No changes to deploy')));
});
