// The client's heartbeat against the real server: what it reports, and which of the server's requests it applies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient, ApiClientError } from '../../src/api-client/client.js';
import { clientId, Heartbeat, type HeartbeatTarget } from '../../src/client/heartbeat.js';
import { systemClock } from '../../src/client/clock.js';
import { silentLogger } from '../../src/log.js';
import { getJson } from '../helpers/api.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/** The part of the capture client the heartbeat drives, as a plain state holder. */
function captureState(paused: boolean) {
  const calls: string[] = [];
  const target: HeartbeatTarget & { paused: boolean; held: boolean } = {
    paused,
    held: false,
    isPaused: () => target.paused,
    state: () => (target.paused ? 'paused' : 'capturing'),
    buffer: () => ({ bytes: 1234, items: 2 }),
    pause: (reason) => {
      calls.push(`pause: ${reason}`);
      target.paused = true;
    },
    resume: (reason) => {
      calls.push(`resume: ${reason}`);
      target.paused = false;
    },
    holdUploads: (held) => {
      target.held = held;
    },
  };
  return { target, calls };
}

describe('client heartbeat', () => {
  let server: Awaited<ReturnType<typeof startInProcessServer>>;
  before(async () => {
    server = await startInProcessServer();
  });
  after(() => server?.close());

  const post = (path: string, body: object) =>
    getJson(`${server.api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const heartbeat = (dataDir: string, target: HeartbeatTarget) =>
    new Heartbeat({ api: new ApiClient(server.api), dataDir, intervalMs: 1000, clock: systemClock, log: silentLogger }, target);

  it('reports host, version, state and buffer, and keeps one id per data dir', async () => {
    const dataDir = tempDir();
    const { target } = captureState(false);
    await heartbeat(dataDir, target).beat();
    await heartbeat(dataDir, target).beat();
    const { clients } = (await getJson(`${server.api}/clients`)).body;
    const mine = clients.filter((c: { kind: string; buffer_bytes: number }) => c.kind === 'openrecall' && c.buffer_bytes === 1234);
    assert.equal(mine.length, 1, 'the same id across restarts');
    assert.equal(mine[0].state, 'capturing');
    assert.equal(mine[0].buffer_items, 2);
    assert.equal(mine[0].online, true);
    assert.equal(mine[0].paused, false);
  });

  it('applies each request of the server once, so a local pause or resume afterwards stands', async () => {
    const dataDir = tempDir();
    const { target, calls } = captureState(false);
    const beat = heartbeat(dataDir, target);
    await beat.beat();
    const id = clientId(dataDir);

    assert.equal((await post(`/clients/${encodeURIComponent(id)}/paused`, { paused: true })).status, 200);
    await beat.beat();
    assert.equal(target.paused, true);
    assert.match(calls.at(-1)!, /paused from the server/);

    target.paused = false; // `openrecall resume` on the machine
    await beat.beat();
    await beat.beat();
    assert.equal(target.paused, false, 'the same request is not applied again');
    assert.equal((await getJson(`${server.api}/clients`)).body.clients.find((c: { id: string }) => c.id === id).paused, false, 'the UI sees the real state');

    await post('/clients/paused', { paused: true }); // Pause all: a new request
    await beat.beat();
    assert.equal(target.paused, true);
    await post('/clients/paused', { paused: false });
  });

  it('on first contact takes a pause from the server but never a resume', async () => {
    await post('/config', { recording_enabled: true });
    const locallyPaused = captureState(true);
    await heartbeat(tempDir(), locallyPaused.target).beat();
    assert.equal(locallyPaused.target.paused, true, 'a local pause is not lifted by a server it just met');
    assert.deepEqual(locallyPaused.calls, []);

    await post('/config', { recording_enabled: false });
    const recording = captureState(false);
    await heartbeat(tempDir(), recording.target).beat();
    assert.equal(recording.target.paused, true, 'a new client joins a paused server paused');
    await post('/config', { recording_enabled: true });
  });

  it('calls in through the API client, with its token', async () => {
    const guarded = await startInProcessServer({ apiToken: 'heartbeat-token' });
    try {
      const { target } = captureState(false);
      const dataDir = tempDir();
      const beat = (token?: string) =>
        new Heartbeat(
          { api: new ApiClient(guarded.api, token ? { token } : {}), dataDir, intervalMs: 1000, clock: systemClock, log: silentLogger },
          target,
        ).beat();
      await assert.rejects(beat(), (error: unknown) => error instanceof ApiClientError && error.kind === 'unauthorized');
      await beat('heartbeat-token');
      const { clients } = (await getJson(`${guarded.api}/clients`, { headers: { authorization: 'Bearer heartbeat-token' } })).body;
      assert.ok(clients.some((c: { id: string }) => c.id === clientId(dataDir)));
    } finally {
      await guarded.close();
    }
  });

  it('holds uploads while upload_enabled is false', async () => {
    const { target } = captureState(false);
    const beat = heartbeat(tempDir(), target);
    await post('/config', { upload_enabled: false });
    await beat.beat();
    assert.equal(target.held, true);
    await post('/config', { upload_enabled: true });
    await beat.beat();
    assert.equal(target.held, false);
  });
});
