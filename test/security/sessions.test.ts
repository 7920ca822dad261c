import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SESSION_ATTEMPTS_PER_MINUTE } from '../../src/server/routes/session.js';
import { MAX_CLIENTS } from '../../src/services/clients-service.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { send } from './http.js';

const TOKEN = 'sessions-test-token-0123456789abcdef';
const UI = { 'x-openrecall-csrf': '1' };

type Server = Awaited<ReturnType<typeof startInProcessServer>>;

/** Logs in as the web UI does; the cookie's `name=value`, and the whole Set-Cookie line. */
async function login(server: Server, headers: Record<string, string> = {}) {
  const response = await send(`${server.api}/session`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, ...UI, ...headers } });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  const line = String(response.headers['set-cookie']);
  return { cookie: line.split(';')[0]!, line };
}

const entriesWith = (server: Server, cookie: string) => send(`${server.api}/entries`, { headers: { cookie } });

describe('sessions: logout, rotation, rate limit (real HTTP)', () => {
  let server: Server;
  before(async () => {
    server = await startInProcessServer({ noProcessing: true, apiToken: TOKEN, trustProxy: true });
  });
  after(() => server?.close());

  it('logout revokes that session (its cookie is refused afterwards, even sent again by hand) and leaves the others', async () => {
    const mine = await login(server);
    const other = await login(server);
    assert.notEqual(mine.cookie, other.cookie, 'each login is its own session');
    assert.equal((await entriesWith(server, mine.cookie)).status, 200);
    const out = await send(`${server.api}/session/logout`, { method: 'POST', headers: { cookie: mine.cookie, ...UI } });
    assert.equal(out.status, 200);
    assert.equal(out.body.revoked, 'this');
    assert.match(String(out.headers['set-cookie']), /openrecall_session=;.*Max-Age=0/);
    assert.equal((await entriesWith(server, mine.cookie)).status, 401, 'the logged-out cookie, replayed');
    assert.equal((await entriesWith(server, other.cookie)).status, 200, 'another browser stays logged in');
  });

  it('rotating the session secret revokes every cookie; the token itself keeps working', async () => {
    const a = await login(server);
    const b = await login(server);
    const rotated = await send(`${server.api}/session/rotate`, { method: 'POST', headers: { cookie: a.cookie, ...UI } });
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.revoked, 'all');
    assert.equal((await entriesWith(server, a.cookie)).status, 401);
    assert.equal((await entriesWith(server, b.cookie)).status, 401);
    assert.equal((await send(`${server.api}/entries`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
    const fresh = await login(server);
    assert.equal((await entriesWith(server, fresh.cookie)).status, 200, 'a new login works after the rotation');
  });

  it('marks the cookie Secure only when the browser used HTTPS (here: a trusted proxy said so in X-Forwarded-Proto)', async () => {
    assert.doesNotMatch((await login(server)).line, /Secure/i);
    assert.match((await login(server, { 'x-forwarded-proto': 'https' })).line, /;\s*Secure/i);
  });

  it(`answers 429 past ${SESSION_ATTEMPTS_PER_MINUTE} attempts a minute at /api/session (token guessing)`, async () => {
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof send>> | undefined;
    for (let i = 0; i < SESSION_ATTEMPTS_PER_MINUTE * 2 && !limited; i++) {
      const response = await send(`${server.api}/session`, { method: 'POST', headers: { authorization: `Bearer wrong-guess-${i}-0123456789` } });
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    assert.ok(limited, `no 429 in ${statuses.length} attempts: ${statuses.join(',')}`);
    assert.ok(statuses.length <= SESSION_ATTEMPTS_PER_MINUTE + 1, `the limit came after ${statuses.length} attempts`);
    assert.ok(statuses.slice(0, -1).every((s) => s === 401));
    assert.equal(limited.body.statusCode, 429);
    assert.equal(limited.body.error, 'TOO_MANY_REQUESTS');
    assert.match(limited.body.message, /retry in \d+ s/);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    const right = await send(`${server.api}/session`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(right.status, 429, 'the right token waits too: the limit is per client, not per guess');
  });

  it(`keeps at most ${MAX_CLIENTS} heartbeat client rows (made-up ids), dropping the least recently seen`, async () => {
    const total = MAX_CLIENTS + 15;
    for (let i = 0; i < total; i++) {
      const response = await send(`${server.api}/heartbeat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: `flood-${i}`, host: 'h' }),
      });
      assert.equal(response.status, 200);
    }
    const list = await send(`${server.api}/clients`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const ids = (list.body.clients as Array<{ id: string }>).map((c) => c.id);
    assert.equal(ids.length, MAX_CLIENTS);
    assert.ok(ids.includes(`flood-${total - 1}`), 'the newest client is kept');
    assert.ok(!ids.includes('flood-0'), 'the oldest is gone');
  });
});

describe('HTTPS (OPENRECALL_TLS_CERT / OPENRECALL_TLS_KEY, real TLS)', () => {
  let server: Server;
  before(async () => {
    const dir = tempDir();
    const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], {
      stdio: 'ignore',
    });
    server = await startInProcessServer({ noProcessing: true, apiToken: TOKEN, tls: { certFile: cert, keyFile: key } });
  });
  after(() => server?.close());

  it('serves the API over HTTPS only, and the session cookie is Secure', async () => {
    assert.match(server.url, /^https:\/\//);
    const health = await send(`${server.api}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    const { cookie, line } = await login(server);
    assert.match(line, /;\s*Secure/i);
    assert.match(line, /HttpOnly/i);
    assert.equal((await entriesWith(server, cookie)).status, 200);
    await assert.rejects(send(`${server.url.replace('https:', 'http:')}/api/health`), 'plain HTTP on the HTTPS port');
  });
});
