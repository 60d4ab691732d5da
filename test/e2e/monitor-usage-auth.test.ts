/** The unsigned usage endpoint must not show one account's usage to anyone in strict mode. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.js';

test('GET /_nimbus/usage answers in dev mode and is refused in strict mode', async () => {
  await using dev = await startTestServer();
  const ok = await fetch(`${dev.endpoint}/_nimbus/usage?since=1h`);
  assert.equal(ok.status, 200);
  await using strict = await startTestServer({
    auth: {
      mode: 'strict',
      keys: [{ accessKeyId: 'AKIDUSAGE', secretAccessKey: 's', accountId: '222222222222' }],
    },
  });
  const refused = await fetch(`${strict.endpoint}/_nimbus/usage?account=222222222222`);
  assert.equal(refused.status, 403);
});
