// Pausing a real capture client (the built CLI on a real X server) from the Settings page in Chromium.
import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { loadAiConfig } from '../../src/ai/config.js';
import { getJson, waitUntil } from '../helpers/api.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { entries, startClientProcess, waitForEntry, type ClientProcess } from '../client/helpers/client-process.js';
import { startXSession, type XSession, type TestWindow } from '../client/helpers/x-session.js';
import { launchBrowser, screenshot, watchedPage } from './helpers.js';

const EXPECT_MS = 20_000;

describe('capture control from the Settings page', () => {
  let session: XSession;
  let server: Awaited<ReturnType<typeof startInProcessServer>>;
  let browser: Browser;
  let window: TestWindow | undefined;
  const clients: ClientProcess[] = [];

  before(async () => {
    [session, server, browser] = await Promise.all([startXSession(), startInProcessServer(), launchBrowser()]);
  });
  after(async () => {
    for (const c of clients) await c.stop('SIGKILL');
    await window?.close();
    await browser?.close();
    await server?.close();
    await session?.close();
  });

  const startClient = async (dataDir: string) => {
    const c = await startClientProcess(session, dataDir, server.api, { OPENRECALL_HEARTBEAT_SECONDS: '0.3' });
    clients.push(c);
    return c;
  };

  it('lists the client, pauses it with its switch (across a client restart), resumes it with Resume all, holds its uploads with upload_enabled', async () => {
    window = await session.openWindow('Control test A', 'capture control');
    const dataDir = tempDir();
    let client = await startClient(dataDir);
    await waitForEntry(server.api, (e) => e.title === 'Control test A', 'a first frame');

    const context = await browser.newContext();
    const { page, problems } = await watchedPage(context);
    await page.goto(`${server.url}/settings`);
    const row = page.locator('#clients-rows tr').first();
    await row.locator('.client__capture', { hasText: 'Recording' }).waitFor({ timeout: EXPECT_MS });
    assert.equal(await page.locator('#clients-rows tr').count(), 1);
    assert.equal(await row.locator('.client__host').textContent(), os.hostname());
    assert.equal(await row.getAttribute('data-online'), 'true');
    assert.match((await row.locator('td').nth(1).textContent()) ?? '', /^\d+\.\d+\.\d+/, 'its version');
    assert.match((await row.locator('.client__buffer').textContent()) ?? '', /B|frame/, 'its buffer');

    await row.getByRole('button', { name: `Pause ${os.hostname()}` }).click();
    await waitUntil(async () => (await client.status()).paused === true, { timeoutMs: EXPECT_MS, what: 'the client to pause' });
    await client.waitFor(/paused from the server/);
    await page.locator('#clients-rows tr[data-paused="true"] .client__capture', { hasText: /^Paused$/ }).waitFor({ timeout: EXPECT_MS });
    await screenshot(page, 'settings-paused');

    await window.setTitle('Control test B');
    const skipped = (await client.status()).frames.skippedPaused;
    await waitUntil(async () => (await client.status()).frames.skippedPaused >= skipped + 4, { timeoutMs: EXPECT_MS, what: 'paused rounds' });
    assert.equal((await entries(server.api)).filter((e) => e.title === 'Control test B').length, 0, 'nothing captured while paused');

    // A restart keeps the pause (the client's flag), and the server does not undo it.
    await client.stop();
    client = await startClient(dataDir);
    await client.waitFor(/paused since/);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await client.status()).paused, true);
    assert.equal((await entries(server.api)).filter((e) => e.title === 'Control test B').length, 0);

    await page.locator('#resume-all').click();
    await waitForEntry(server.api, (e) => e.title === 'Control test B', 'a frame after Resume all');
    assert.equal((await client.status()).paused, false);
    await page.locator('#clients-rows tr[data-paused="false"]').waitFor({ timeout: EXPECT_MS });

    // upload_enabled false holds its uploads: frames wait in its buffer until it is true again.
    const setConfig = (body: object) =>
      getJson(`${server.api}/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await setConfig({ upload_enabled: false })).status, 200);
    await client.waitFor(/uploads held by the server/);
    await window.setTitle('Control test C');
    await waitUntil(async () => (await client.status()).buffer.items >= 1, { timeoutMs: EXPECT_MS, what: 'a frame kept in the buffer' });
    assert.equal((await client.status()).uploader.state, 'held');
    assert.equal((await entries(server.api)).filter((e) => e.title === 'Control test C').length, 0, 'not uploaded while held');
    await setConfig({ upload_enabled: true });
    await waitForEntry(server.api, (e) => e.title === 'Control test C', 'the held frame once uploads are allowed');

    // Pause all reaches it too; `openrecall resume` on the machine still wins afterwards (it is local).
    await page.locator('#pause-all').click();
    await waitUntil(async () => (await client.status()).paused === true, { timeoutMs: EXPECT_MS, what: 'Pause all' });
    assert.deepEqual(problems, []);
    await context.close();
  });

  it("shows the server's settings read-only, never its secrets", async () => {
    const token = 'settings-test-token-0123456789abcdef';
    const ai = loadAiConfig({});
    const vlm = { ...ai.vlm, url: 'http://user:pw@127.0.0.1:9/v1?key=abc', model: 'm', apiKey: 'vlm-secret-key-987' };
    const secretServer = await startInProcessServer({ apiToken: token, ai: { ...ai, vlm } });
    try {
      const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${token}` } });
      const { page, problems } = await watchedPage(context);
      await page.goto(`${secretServer.url}/settings`);
      const settings = page.locator('#server-settings');
      await settings.getByText('OPENRECALL_API_TOKEN').waitFor({ timeout: EXPECT_MS });
      const text = (await settings.textContent()) ?? '';
      assert.match(text, /OPENRECALL_API_TOKEN\s*set \(hidden\)/);
      assert.match(text, /OPENRECALL_VLM_API_KEY\s*set \(hidden\)/);
      assert.match(text, /OPENRECALL_VLM_URL\s*http:\/\/127\.0\.0\.1:9\/v1/);
      for (const secret of [token, 'vlm-secret-key-987', 'pw@', 'key=abc']) assert.ok(!text.includes(secret), `${secret} is not shown`);
      const raw = JSON.stringify((await getJson(`${secretServer.api}/settings`, { headers: { authorization: `Bearer ${token}` } })).body);
      for (const secret of [token, 'vlm-secret-key-987', 'pw@', 'key=abc']) assert.ok(!raw.includes(secret), `${secret} is not sent`);
      assert.equal((await fetch(`${secretServer.api}/clients`)).status, 401, 'the switches need the token');
      assert.deepEqual(problems, []);
      await context.close();
    } finally {
      await secretServer.close();
    }
  });
});
