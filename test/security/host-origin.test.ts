import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadServerConfig } from '../../src/config.js';
import { upload } from '../helpers/api.js';
import { solidPng } from '../helpers/images.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { startInjectServer } from '../helpers/inject-app.js';
import { MCP_HEADERS, mcpCall, ownHost, send } from './http.js';

// DNS rebinding: a web page at attacker.example makes its name resolve to 127.0.0.1, then reads the server
// "same-origin" with Host: attacker.example:<port>. Without a token (the default on loopback) only the Host
// check stands between that page and the whole history.
describe('Host and Origin checks (no token, real HTTP)', () => {
  let server: Awaited<ReturnType<typeof startInProcessServer>>;
  let id: number;
  let port: string;

  before(async () => {
    server = await startInProcessServer({ noProcessing: true, allowedHosts: ['recall.lan'] });
    port = new URL(server.url).port;
    const uploaded = await upload(server.api, { image: await solidPng() });
    assert.equal(uploaded.status, 202);
    id = (uploaded.body as { task_id: number }).task_id;
  });
  after(() => server?.close());

  const routes = () => [
    { name: 'the entries list', path: '/api/entries', method: 'GET' },
    { name: 'a screenshot', path: `/api/entries/${id}/image`, method: 'GET' },
    { name: 'the MCP endpoint', path: '/mcp', method: 'POST', headers: MCP_HEADERS, body: mcpCall('recent') },
  ];

  it('answers its own Host (127.0.0.1, localhost, [::1] with its port, and OPENRECALL_ALLOWED_HOSTS) on the API, images and MCP', async () => {
    for (const host of [ownHost(server.url), `localhost:${port}`, `[::1]:${port}`, `recall.lan:${port}`, 'recall.lan']) {
      for (const route of routes()) {
        const response = await send(`${server.url}${route.path}`, { method: route.method, headers: { ...route.headers, host }, body: route.body });
        assert.equal(response.status, 200, `${route.name} with Host ${host}: ${JSON.stringify(response.body).slice(0, 300)}`);
      }
    }
    const image = await send(`${server.url}/api/entries/${id}/image`);
    assert.match(String(image.headers['content-type']), /^image\//);
  });

  it('refuses a foreign Host (DNS rebinding) on the API, images, MCP and unknown paths, naming the setting that allows it', async () => {
    for (const host of [`attacker.example:${port}`, 'attacker.example', `localhost:${Number(port) + 1}`, `127.0.0.1.attacker.example:${port}`]) {
      for (const route of [...routes(), { name: 'an unknown path', path: '/nothing-here', method: 'GET' }]) {
        const response = await send(`${server.url}${route.path}`, { method: route.method, headers: { ...(route.headers ?? {}), host }, body: route.body });
        assert.equal(response.status, 421, `${route.name} with Host ${host}`);
        assert.equal(response.body.error, 'HOST_NOT_ALLOWED');
        assert.match(response.body.message, /OPENRECALL_ALLOWED_HOSTS/);
        assert.doesNotMatch(JSON.stringify(response.body), /solid|TestApp/, 'no data in the refusal');
      }
    }
  });

  it('refuses a foreign Origin (another web site, a null origin) on the API, images and MCP, and accepts its own', async () => {
    for (const origin of [
      'http://attacker.example',
      `http://attacker.example:${port}`,
      'null',
      `http://localhost:${Number(port) + 1}`,
      `ftp://127.0.0.1:${port}`,
    ]) {
      for (const route of routes()) {
        const response = await send(`${server.url}${route.path}`, { method: route.method, headers: { ...route.headers, origin }, body: route.body });
        assert.equal(response.status, 403, `${route.name} with Origin ${origin}`);
        assert.equal(response.body.error, 'ORIGIN_NOT_ALLOWED');
        assert.match(response.body.message, /OPENRECALL_ALLOWED_HOSTS/);
      }
    }
    for (const origin of [server.url, `http://localhost:${port}`, `https://recall.lan:${port}`]) {
      for (const route of routes()) {
        const response = await send(`${server.url}${route.path}`, { method: route.method, headers: { ...route.headers, origin }, body: route.body });
        assert.equal(response.status, 200, `${route.name} with Origin ${origin}`);
      }
    }
  });

  it("MCP links name the server's own host, the one the assistant reached it by", async () => {
    const response = await send(`${server.url}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, host: `localhost:${port}` }, body: mcpCall('recent') });
    const text = response.body.result.content[0].text as string;
    assert.ok(text.includes(`http://localhost:${port}/entry/${id}`), text);
  });
});

describe('the in-process test app is the same composition (src/server/compose.ts)', () => {
  it('refuses a foreign Host and a form post through inject too: no path gets the app without the hooks', async () => {
    const inject = await startInjectServer();
    try {
      const foreign = await inject.request({ method: 'GET', url: '/api/entries', headers: { host: 'attacker.example' } });
      assert.equal(foreign.status, 421);
      const form = await inject.request({
        method: 'POST',
        url: '/api/config',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'recording_enabled=false',
      });
      assert.equal(form.status, 415);
      assert.equal((await inject.request({ method: 'GET', url: '/api/entries' })).status, 200);
    } finally {
      await inject.close();
    }
  });
});

describe('the LAN settings are checked at start', () => {
  it('reads OPENRECALL_ALLOWED_HOSTS as a comma list and stops on a bad entry or half a TLS pair, naming the variable', () => {
    assert.deepEqual(loadServerConfig({ OPENRECALL_ALLOWED_HOSTS: ' Recall.LAN , 192.168.1.5:8083,[fd00::1]' }).allowedHosts, [
      'recall.lan',
      '192.168.1.5:8083',
      '[fd00::1]',
    ]);
    assert.throws(() => loadServerConfig({ OPENRECALL_ALLOWED_HOSTS: 'http://recall.lan/' }), /OPENRECALL_ALLOWED_HOSTS has "http:\/\/recall.lan\/"/);
    assert.throws(() => loadServerConfig({ OPENRECALL_TLS_CERT: '/x/cert.pem' }), /OPENRECALL_TLS_CERT and OPENRECALL_TLS_KEY go together/);
  });
});
