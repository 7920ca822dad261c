import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '../helpers/api.js';
import { solidPng } from '../helpers/images.js';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { bearer, getJsonAuthed, TOKEN, uploadWithToken } from './helpers.js';

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

function assertSecurityHeaders(response: Response, what: string) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(response.headers.get(name), value, `${name} on ${what}`);
  const csp = response.headers.get('content-security-policy') ?? '';
  assert.match(csp, /frame-ancestors 'none'/, `CSP on ${what}`);
  assert.match(csp, /script-src 'self'(;|$)/, `CSP on ${what}`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `CSP on ${what}`);
}

async function assertUnauthorized(response: Response, what: string) {
  assert.equal(response.status, 401, `${what}: ${response.status}`);
  assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/, `WWW-Authenticate on ${what}`);
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(body.statusCode, 401);
  assert.equal(body.error, 'UNAUTHORIZED');
  assert.equal(typeof body.message, 'string');
  assertSecurityHeaders(response, what);
}

describe('OPENRECALL_API_TOKEN (server process)', () => {
  let server: ServerProcess;
  let dataDir: string;
  let id: number;
  let _spareId: number;
  let png: Buffer;

  before(async () => {
    dataDir = tempDir();
    server = await startServerProcess(dataDir, { OPENRECALL_API_TOKEN: TOKEN, OPENRECALL_OCR_ENGINE: 'none' });
    png = await solidPng(200, 120);
    const first = await uploadWithToken(server.api, png, { captureId: 'auth-1' });
    const second = await uploadWithToken(server.api, await solidPng(200, 120, '#aa0000'), { captureId: 'auth-2' });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.equal(second.status, 202);
    id = first.body.task_id!;
    _spareId = second.body.task_id!;
    await waitUntil(async () => (await getJsonAuthed(`${server.api}/queue/status`)).body.queue.completed === 2, {
      what: 'frames processed',
      timeoutMs: 60_000,
    });
  });
  after(async () => {
    await server?.stop();
  });

  it('gives nothing away through other spellings of a protected path', async () => {
    for (const p of [
      `/%61pi/entries`,
      `/api/entries/${id}/image/`,
      `/API/entries/${id}`,
      `/api//entries`,
      `/api/entries/${id}/%69mage`,
      `/api/./entries`,
      `/assets/../api/entries`,
    ]) {
      const response = await fetch(`${server.url}${p}`);
      const text = await response.text();
      assert.ok(response.status === 401 || response.status === 404, `${p}: ${response.status} ${text.slice(0, 200)}`);
      assert.doesNotMatch(text, /TestApp|image_path|"entries"/, `${p} leaks nothing`);
    }
  });

  it('keeps /api/health open, revealing only status and version', async () => {
    const response = await fetch(`${server.api}/health`);
    assert.equal(response.status, 200);
    assert.deepEqual(Object.keys((await response.json()) as object).sort(), ['status', 'version']);
    assertSecurityHeaders(response, '/api/health');
  });

  it('serves the UI shell without a token (it then asks), with the security headers', async () => {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assertSecurityHeaders(page, 'the UI page');
    const asset = html.match(/\/assets\/[^"]+\.js/)?.[0];
    assert.ok(asset, 'the page links its script');
    const script = await fetch(`${server.url}${asset}`);
    assert.equal(script.status, 200);
    assertSecurityHeaders(script, 'a UI asset');
    await script.arrayBuffer();
    const missing = await fetch(`${server.url}/nope`);
    assert.equal(missing.status, 404);
    assertSecurityHeaders(missing, 'a 404');
  });

  it('trades the token for an HttpOnly session cookie that opens the data and the images, and nothing else does', async () => {
    const none = await fetch(`${server.api}/session`, { method: 'POST' });
    await assertUnauthorized(none, 'POST /api/session without a token');
    const wrong = await fetch(`${server.api}/session`, { method: 'POST', headers: bearer('wrong-token-0123456789abcdef') });
    await assertUnauthorized(wrong, 'POST /api/session with a wrong token');
    assert.equal(wrong.headers.get('set-cookie'), null);

    const right = await fetch(`${server.api}/session`, { method: 'POST', headers: bearer() });
    assert.equal(right.status, 200);
    assert.deepEqual(await right.json(), { auth_required: true, authenticated: true });
    const setCookie = right.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^openrecall_session=[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{40,};/);
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Strict/);
    assert.match(setCookie, /; Path=\//);
    assert.ok(!setCookie.includes(TOKEN), 'the cookie is not the token itself');
    const cookie = setCookie.split(';')[0]!;

    const image = await fetch(`${server.api}/entries/${id}/image`, { headers: { cookie } });
    assert.equal(image.status, 200);
    assert.ok(Buffer.from(await image.arrayBuffer()).length > 0);
    assertSecurityHeaders(image, 'an image');
    const thumb = await fetch(`${server.api}/entries/${id}/thumbnail`, { headers: { cookie } });
    assert.equal(thumb.status, 200);
    await thumb.arrayBuffer();
    const search = await fetch(`${server.api}/search?q=anything`, { headers: { cookie } });
    assert.equal(search.status, 200);
    await search.arrayBuffer();

    const tampered = `${cookie.slice(0, -2)}${cookie.endsWith('A') ? 'B' : 'A'}x`;
    await assertUnauthorized(await fetch(`${server.api}/entries/${id}/image`, { headers: { cookie: tampered } }), 'a tampered cookie');
    // A wrong bearer token is not rescued by a good cookie.
    await assertUnauthorized(await fetch(`${server.api}/entries`, { headers: { cookie, ...bearer('wrong-token-0123456789abcdef') } }), 'wrong bearer + cookie');
  });

  it('the CLI sends OPENRECALL_API_TOKEN: status, search and import work with it and say why without it', async () => {
    const env = { OPENRECALL_API_URL: server.api, OPENRECALL_DATA_DIR: dataDir };
    const withToken = runCli(['status', '--json'], { ...env, OPENRECALL_API_TOKEN: TOKEN });
    assert.equal((await withToken.exited).code, 0, withToken.output());
    assert.equal(JSON.parse(withToken.output()).queue.completed >= 1, true);
    const without = runCli(['status'], { ...env, OPENRECALL_API_TOKEN: '' });
    assert.equal((await without.exited).code, 1);
    assert.match(without.output(), /401.*OPENRECALL_API_TOKEN/);

    const search = runCli(['search', 'anything', '--json'], { ...env, OPENRECALL_API_TOKEN: TOKEN });
    assert.equal((await search.exited).code, 0, search.output());
    const searchWithout = runCli(['search', 'anything'], { ...env, OPENRECALL_API_TOKEN: '' });
    assert.equal((await searchWithout.exited).code, 1);
    assert.match(searchWithout.output(), /OPENRECALL_API_TOKEN/);

    const folder = tempDir();
    fs.writeFileSync(path.join(folder, '1750000000.png'), await solidPng(90, 60, '#00aa55'));
    const imported = runCli(['import', folder], { ...env, OPENRECALL_API_TOKEN: TOKEN });
    assert.equal((await imported.exited).code, 0, imported.output());
    assert.match(imported.output(), /imported 1,/);
    const refused = runCli(['import', folder], { ...env, OPENRECALL_API_TOKEN: '' });
    assert.equal((await refused.exited).code, 1);
    assert.match(refused.output(), /401/);
  });
});

describe('binding beyond loopback', () => {
  const started: ServerProcess[] = [];
  after(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  it('refuses a non-loopback OPENRECALL_HOST without a token: one line, exit code 2, nothing listening', async () => {
    const cli = runCli(['server'], {
      OPENRECALL_DATA_DIR: tempDir(),
      OPENRECALL_HOST: '0.0.0.0',
      OPENRECALL_PORT: '0',
      OPENRECALL_OCR_ENGINE: 'none',
      OPENRECALL_API_TOKEN: '',
    });
    const { code } = await cli.exited;
    assert.equal(code, 2, cli.output());
    const lines = cli.output().trim().split('\n');
    assert.equal(lines.length, 1, cli.output());
    assert.match(lines[0]!, /OPENRECALL_HOST="0\.0\.0\.0".*OPENRECALL_API_TOKEN.*--insecure-no-auth/);
    assert.doesNotMatch(cli.output(), /listening/);
  });

  it('starts with --insecure-no-auth, warning loudly', async () => {
    const cli = runCli(['server', '--insecure-no-auth'], {
      OPENRECALL_DATA_DIR: tempDir(),
      OPENRECALL_HOST: '0.0.0.0',
      OPENRECALL_PORT: '0',
      OPENRECALL_OCR_ENGINE: 'none',
      OPENRECALL_WORKERS: '1',
      OPENRECALL_API_TOKEN: '',
    });
    started.push({
      ...cli,
      url: '',
      api: '',
      stop: async () => {
        if (cli.child.exitCode === null) cli.child.kill('SIGTERM');
        return cli.exited;
      },
    });
    await cli.waitFor(/listening on/, 90_000);
    assert.match(cli.output(), /WARNING: --insecure-no-auth.*WITHOUT AUTHENTICATION/);
  });

  it('starts on 0.0.0.0 with a token', async () => {
    const server = await startServerProcess(tempDir(), { OPENRECALL_HOST: '0.0.0.0', OPENRECALL_API_TOKEN: TOKEN, OPENRECALL_OCR_ENGINE: 'none' });
    started.push(server);
    const port = new URL(server.url).port;
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/entries`)).status, 401);
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/entries`, { headers: bearer() })).status, 200);
  });

  it('rejects a token too short to be one: one line, exit code 2', async () => {
    const cli = runCli(['server'], { OPENRECALL_DATA_DIR: tempDir(), OPENRECALL_PORT: '0', OPENRECALL_API_TOKEN: 'short' });
    assert.equal((await cli.exited).code, 2);
    assert.match(cli.output().trim(), /^openrecall: OPENRECALL_API_TOKEN is not valid: use at least 16 characters/);
  });
});
