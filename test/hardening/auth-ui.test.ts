import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { getJson, waitUntil } from '../helpers/api.js';
import { renderTextImage } from '../helpers/images.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { launchBrowser } from '../web/helpers.js';
import { bearer, TOKEN, uploadWithToken } from './helpers.js';

// The web UI against a real server with OPENRECALL_API_TOKEN set (no stand-in): the UI asks once, trades the
// token for the HttpOnly session cookie, and every request and image works from then on.
describe('web UI with OPENRECALL_API_TOKEN (Chromium, server process)', () => {
  let server: ServerProcess;
  let browser: Browser;

  before(async () => {
    server = await startServerProcess(tempDir(), { OPENRECALL_API_TOKEN: TOKEN, OPENRECALL_OCR_ENGINE: 'none' });
    for (let i = 0; i < 3; i++) {
      const response = await uploadWithToken(server.api, await renderTextImage([`secret screen ${i}`], { width: 640, height: 360, seed: i + 1 }));
      assert.equal(response.status, 202);
    }
    await waitUntil(async () => (await getJson(`${server.api}/queue/status`, { headers: bearer() })).body.queue.completed === 3, { what: 'frames processed' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('asks once (again after a wrong token), keeps only an HttpOnly cookie, and loads data and thumbnails with it', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const unauthorized: string[] = [];
    page.on('response', (response) => {
      if (response.status() === 401) unauthorized.push(`${response.request().method()} ${new URL(response.url()).pathname}`);
    });
    await page.goto(`${server.url}/`);
    const dialog = page.getByRole('dialog', { name: 'API token' });
    await dialog.waitFor();
    await dialog.getByLabel('Token').fill('wrong-token-0123456789abcdef');
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await dialog.waitFor(); // asked again
    await dialog.getByLabel('Token').fill(TOKEN);
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await page.locator('.card').first().waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.card img')].some((img) => img.complete && img.naturalWidth > 0));

    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'openrecall_session');
    assert.ok(session, 'session cookie set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.path, '/');
    assert.equal(await page.evaluate(() => document.cookie), '', 'no cookie a script can read');
    assert.equal(
      await page.evaluate(() => JSON.stringify(Object.values(localStorage))).then((v) => v.includes('test-token')),
      false,
      'the token is not kept in localStorage',
    );

    const refusedBefore = unauthorized.length;
    await page.reload();
    await page.locator('.card').first().waitFor();
    await page.goto(`${server.url}/queue`);
    await page.waitForFunction(() => document.getElementById('queue-completed')?.textContent !== '–');
    assert.equal(await page.getByRole('dialog').count(), 0, 'not asked again');
    assert.deepEqual(unauthorized.slice(refusedBefore), [], 'no request refused once the session is open');
    await context.close();
  });
});
