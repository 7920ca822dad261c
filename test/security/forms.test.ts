import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { upload } from '../helpers/api.js';
import { solidPng } from '../helpers/images.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { multipart } from '../helpers/multipart.js';
import { send } from './http.js';

const TOKEN = 'forms-test-token-0123456789abcdef';
const CSRF = { 'x-openrecall-csrf': '1' };

/** The bodies a plain HTML form on any web site can post without a CORS preflight. */
function formBodies(fields: Record<string, string>) {
  const raw = multipart(Object.entries(fields).map(([name, value]) => ({ name, value })));
  return [
    { kind: 'multipart', type: raw.contentType, body: raw.body },
    { kind: 'urlencoded', type: 'application/x-www-form-urlencoded', body: Buffer.from(new URLSearchParams(fields).toString()) },
    { kind: 'text/plain', type: 'text/plain', body: Buffer.from(JSON.stringify(fields)) },
  ];
}

/** Every state-changing route but the upload, with the fields a forged form would carry. */
const changes = (id: number): Array<{ method: string; path: string; fields: Record<string, string> }> => [
  { method: 'POST', path: '/api/config', fields: { recording_enabled: 'false' } },
  { method: 'POST', path: '/api/clients/paused', fields: { paused: 'true' } },
  { method: 'POST', path: '/api/storage/prune', fields: {} },
  { method: 'POST', path: '/api/storage/compact', fields: {} },
  { method: 'POST', path: '/api/queue/retry_failed', fields: {} },
  { method: 'POST', path: '/api/queue/backfill', fields: {} },
  { method: 'POST', path: `/api/entries/${id}/retry`, fields: {} },
  { method: 'DELETE', path: `/api/entries/${id}`, fields: {} },
  { method: 'POST', path: '/api/heartbeat', fields: { client_id: 'forged' } },
  { method: 'POST', path: '/api/session/logout', fields: {} },
  { method: 'POST', path: '/api/session/rotate', fields: {} },
];

describe('no state change from a form post or another origin (token and cookie, real HTTP)', () => {
  let server: Awaited<ReturnType<typeof startInProcessServer>>;
  let open: Awaited<ReturnType<typeof startInProcessServer>>;
  let cookie: string;
  let id: number;
  const bearer = { authorization: `Bearer ${TOKEN}` };
  let multipartUpload: ReturnType<typeof multipart>;

  before(async () => {
    multipartUpload = multipart([
      { name: 'timestamp', value: String(Date.now() / 1000 - 5) },
      { name: 'active_app', value: 'Forms' },
      { name: 'active_window', value: 'w' },
      { name: 'image', value: await solidPng(), filename: 'f.png', type: 'image/png' },
    ]);
    [server, open] = await Promise.all([startInProcessServer({ noProcessing: true, apiToken: TOKEN }), startInProcessServer({ noProcessing: true })]);
    const session = await send(`${server.api}/session`, { method: 'POST', headers: { ...bearer, ...CSRF } });
    assert.equal(session.status, 200);
    cookie = String(session.headers['set-cookie']).split(';')[0]!;
    const uploaded = await send(`${server.api}/upload`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': multipartUpload.contentType },
      body: multipartUpload.body,
    });
    assert.equal(uploaded.status, 202, JSON.stringify(uploaded.body));
    id = uploaded.body.task_id;
  });
  after(async () => {
    await server?.close();
    await open?.close();
  });

  /** Nothing the forged requests aimed at happened: recording is on, the frame is there, the session lives. */
  async function assertUnchanged() {
    const config = await send(`${server.api}/config`, { headers: { cookie } });
    assert.equal(config.status, 200, 'the session cookie still works (no logout, no rotation)');
    assert.equal(config.body.recording_enabled, true);
    assert.equal((await send(`${server.api}/entries/${id}`, { headers: bearer })).status, 200);
    const clients = await send(`${server.api}/clients`, { headers: bearer });
    assert.deepEqual(clients.body.clients, []);
  }

  it('refuses multipart, urlencoded and text/plain bodies on every state-changing route (no token, cookie, or token) with 415 JSON', async () => {
    for (const change of changes(id)) {
      for (const form of formBodies(change.fields)) {
        for (const [who, headers] of [
          ['no credentials', {}],
          ['the session cookie', { cookie }],
          ['the token', bearer],
        ] as const) {
          const response = await send(`${server.url}${change.path}`, {
            method: change.method,
            headers: { ...headers, 'content-type': form.type },
            body: form.body,
          });
          assert.equal(response.status, 415, `${change.method} ${change.path} with a ${form.kind} body and ${who}: ${JSON.stringify(response.body)}`);
          assert.equal(response.body.error, 'UNSUPPORTED_MEDIA_TYPE');
          assert.match(response.body.message, /application\/json/);
        }
      }
    }
    await assertUnchanged();
  });

  it('refuses the same form posts on a server without a token (the default on loopback)', async () => {
    for (const change of changes(1)) {
      for (const form of formBodies(change.fields)) {
        const response = await send(`${open.url}${change.path}`, { method: change.method, headers: { 'content-type': form.type }, body: form.body });
        assert.equal(response.status, 415, `${change.method} ${change.path} with a ${form.kind} body`);
      }
    }
    const config = await send(`${open.api}/config`);
    assert.equal(config.body.recording_enabled, true);
  });

  it('refuses a cookie-authenticated change from another localhost origin (a "same-site" dev server) or without the UI header', async () => {
    const off = JSON.stringify({ recording_enabled: false });
    const fromDevServer = await send(`${server.api}/config`, {
      method: 'POST',
      headers: { cookie, origin: 'http://localhost:5173', 'content-type': 'application/json' },
      body: off,
    });
    assert.equal(fromDevServer.status, 403);
    assert.equal(fromDevServer.body.error, 'ORIGIN_NOT_ALLOWED');
    const noProof = await send(`${server.api}/config`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: off });
    assert.equal(noProof.status, 403);
    assert.equal(noProof.body.error, 'CSRF');
    assert.match(noProof.body.message, /x-openrecall-csrf/);
    const upload = await send(`${server.api}/upload`, {
      method: 'POST',
      headers: { cookie, origin: 'http://localhost:5173', 'content-type': multipartUpload.contentType },
      body: multipartUpload.body,
    });
    assert.equal(upload.status, 403, 'a forged upload from another origin');
    await assertUnchanged();
  });

  it("takes the UI's own JSON requests: cookie with the CSRF header, or with its own Origin", async () => {
    const set = (recording: boolean, headers: Record<string, string>) =>
      send(`${server.api}/config`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ recording_enabled: recording }),
      });
    const viaHeader = await set(false, CSRF);
    assert.equal(viaHeader.status, 200, JSON.stringify(viaHeader.body));
    assert.equal(viaHeader.body.recording_enabled, false);
    const viaOrigin = await set(true, { origin: server.url });
    assert.equal(viaOrigin.status, 200);
    assert.equal(viaOrigin.body.recording_enabled, true);
    const retry = await send(`${server.api}/entries/${id}/retry`, { method: 'POST', headers: { cookie, ...CSRF } });
    assert.notEqual(retry.status, 415);
    assert.notEqual(retry.status, 403);
    // The upload route still takes its multipart form from a client with the token.
    const uploaded = await upload(open.api, { image: await solidPng(20, 20) });
    assert.equal(uploaded.status, 202);
  });
});
