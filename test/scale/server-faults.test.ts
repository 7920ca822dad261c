import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getJson, waitUntil } from '../helpers/api.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { startPrivatePostgres } from '../helpers/private-postgres.js';
import { captureClient, dataDirFor, deploymentEnv, entryRows, sleep, startBalancer, startServer, textFrame } from './helpers.js';

const completedOnce = async (url: string, captureIds: string[]) => {
  const rows = await entryRows(url);
  const ids = rows.map((r) => r.capture_id).sort();
  return rows.every((r) => r.status === 'COMPLETED') && ids.length === captureIds.length && ids.join() === [...captureIds].sort().join();
};

test('two servers on one database and data dir behind a balancer: kill -9 of one under upload load loses nothing', async (t) => {
  const db = await createTestDatabase();
  t.after(() => db.drop());
  let alive: Array<{ url: string }> = [];
  const balancer = await startBalancer(() => alive.map((s) => s.url));
  t.after(() => balancer.close());
  // Clients name the balancer in their Host header: the servers are told it is theirs (as a deployment must be).
  const env = deploymentEnv(db.url, dataDirFor(), { OPENRECALL_ALLOWED_HOSTS: new URL(balancer.url).host });
  const servers = [await startServer(env), await startServer(env)];
  t.after(() => {
    for (const s of servers) s.child.kill('SIGKILL');
  });
  alive = servers;
  const client = captureClient(`${balancer.url}/api`);
  t.after(() => client.uploader.stop());

  const sent: string[] = [];
  for (let i = 0; i < 24; i++) {
    const frame = await textFrame(i);
    sent.push(client.add(frame.image, frame.word));
    if (i === 10) {
      servers[0]!.child.kill('SIGKILL'); // mid-load: its uploads in flight and the frames its processor holds
      alive = [servers[1]!];
    }
    await sleep(150);
  }
  await waitUntil(() => client.buffer.stats().items === 0, { timeoutMs: 120_000, what: 'the client delivered everything' });
  await waitUntil(() => completedOnce(db.url, sent), { timeoutMs: 300_000, intervalMs: 500, what: 'every frame COMPLETED exactly once' });

  // The surviving server serves every frame, whichever server took it in.
  const survivor = servers[1]!;
  for (const row of await entryRows(db.url)) {
    const image = await fetch(`${survivor.api}/entries/${row.id}/image`);
    assert.equal(image.status, 200, `frame ${row.id} is served by the surviving server`);
    await image.arrayBuffer();
  }
  const { body } = await getJson(`${survivor.api}/search?q=marker005x&mode=keyword`);
  assert.equal(body.results.length, 1);
  assert.equal(survivor.child.exitCode, null);
});

test('PostgreSQL away for 20 s under load: 503 with Retry-After, no crash, then every frame delivered and COMPLETED once', async (t) => {
  const pg = await startPrivatePostgres();
  t.after(() => pg.destroy());
  const env = deploymentEnv(pg.url, dataDirFor());
  const server = await startServer(env);
  t.after(() => server.child.kill('SIGKILL'));
  const client = captureClient(server.api);
  t.after(() => client.uploader.stop());

  const sent: string[] = [];
  for (let i = 0; i < 4; i++) sent.push(client.add((await textFrame(i)).image, `before ${i}`));
  await waitUntil(() => client.buffer.stats().items === 0, { timeoutMs: 60_000, what: 'first frames delivered' });

  pg.stop();
  const stoppedAt = Date.now();
  for (let i = 4; i < 10; i++) sent.push(client.add((await textFrame(i)).image, `during ${i}`));
  // What a client sees meanwhile: a clear 503 it may retry, never a 500.
  const direct = new FormData();
  direct.append('image', new Blob([new Uint8Array((await textFrame(99)).image)], { type: 'image/png' }), 'frame.png');
  direct.append('timestamp', String(Date.now() / 1000));
  direct.append('active_app', 'Notes');
  direct.append('active_window', 'direct');
  const refused = await fetch(`${server.api}/upload`, { method: 'POST', body: direct });
  assert.equal(refused.status, 503);
  assert.ok(Number(refused.headers.get('retry-after')) > 0, 'Retry-After says when to come back');
  assert.match(JSON.stringify(await refused.json()), /database/i);
  const search = await fetch(`${server.api}/search?q=fox`);
  assert.equal(search.status, 503);
  await search.arrayBuffer();
  await sleep(Math.max(0, 20_000 - (Date.now() - stoppedAt)));
  assert.ok(client.buffer.stats().items > 0, 'the client kept the frames it could not deliver');
  assert.equal(server.child.exitCode, null, 'the server did not crash');

  pg.start();
  await waitUntil(() => client.buffer.stats().items === 0, { timeoutMs: 120_000, what: 'the client delivered its backlog' });
  await waitUntil(() => completedOnce(pg.url, sent), { timeoutMs: 300_000, intervalMs: 500, what: 'every frame COMPLETED exactly once' });
  assert.equal(server.child.exitCode, null);
});
