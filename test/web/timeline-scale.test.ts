// The timeline with 50 000 frames: it never loads them all, and scrubbing at key-repeat speed stays instant.
// The frames are written straight into the server's database (as an import of a long history would), sharing a
// handful of real screenshots; everything the browser does goes through the public API.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3-multiple-ciphers';
import sharp from 'sharp';
import type { Browser } from 'playwright-core';
import { getJson } from '../helpers/api.js';
import { renderTextImage } from '../helpers/images.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { launchBrowser, screenshot, watchedPage } from './helpers.js';

const FRAMES = 50_000;
const IMAGES = 8;

describe('timeline with 50 000 frames', () => {
  let server: ServerProcess;
  let browser: Browser;
  let first = 0;

  before(async () => {
    const dataDir = tempDir();
    // Rows here share a few image files, which compaction would move away from under the others: it stays off.
    [server, browser] = await Promise.all([
      startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'none', OPENRECALL_COMPACT_AFTER_MINUTES: '50000000' }),
      launchBrowser(),
    ]);
    const images: string[] = [];
    for (let i = 0; i < IMAGES; i++) {
      const relative = `screenshots/scale/${i}.webp`;
      fs.mkdirSync(path.join(dataDir, 'screenshots', 'scale'), { recursive: true });
      const png = await renderTextImage([`Screen number ${i}`, 'A long day of work, captured every few seconds'], {
        seed: i + 1,
        background: ['#ffffff', '#f0f4ff', '#fff6e8', '#eefbf0'][i % 4],
      });
      fs.writeFileSync(path.join(dataDir, relative), await sharp(png).webp({ lossless: true }).toBuffer());
      images.push(relative);
    }
    // A month of captures a few seconds apart with a break every ~1 700 frames, written while the server runs.
    const db = new Database(path.join(dataDir, 'db', 'recall.db'));
    db.pragma('busy_timeout = 5000');
    const insert = db.prepare(
      `INSERT INTO entries (timestamp, app, title, text, status, image_path, width, height, bytes, received_at, attempts)
       VALUES (?, ?, ?, ?, 'COMPLETED', ?, 1280, 720, 10000, ?, 1)`,
    );
    const apps = ['Firefox', 'Terminal', 'Code', 'Slack', 'Thunderbird'];
    first = Math.floor(Date.now() / 1000) - 30 * 86400;
    // Short transactions of 1 000 rows: one long write would hold the database lock past the server's busy
    // timeout, and its processor gives up on SQLITE_BUSY (see the report of the web UI work).
    const batch = db.transaction((from: number, t: number) => {
      for (let i = from; i < Math.min(from + 1000, FRAMES); i++) {
        t += i % 1667 === 0 && i > 0 ? 16 * 3600 : 2 + ((i * 7919) % 23);
        insert.run(t, apps[i % apps.length], `Window ${i}`, `frame ${i}`, images[i % IMAGES], t);
      }
      return t;
    });
    let t = first;
    for (let from = 0; from < FRAMES; from += 1000) {
      t = batch(from, t);
      await new Promise((resolve) => setImmediate(resolve));
    }
    db.close();
  });

  after(async () => {
    await browser?.close();
    const exited = server && (server.child.exitCode !== null || server.child.signalCode !== null);
    if (exited) console.error(`the server exited early (${server.child.exitCode ?? server.child.signalCode}):\n${server.output()}`);
    await server?.stop();
  });

  // Timing is measured by benchmarks, not asserted here: these tests check what is returned and what is loaded.
  it('answers the page around any position, without returning every frame', async () => {
    const { body: summary } = await getJson(`${server.api}/timeline`);
    assert.equal(summary.count, FRAMES);
    for (const offset of [0, 25_000, FRAMES - 100]) {
      const { status, body } = await getJson(`${server.api}/timeline/frames?offset=${offset}&limit=100`);
      assert.equal(status, 200);
      assert.equal(body.frames.length, 100);
      assert.equal(body.frames[0].index, offset);
    }
    assert.equal((await getJson(`${server.api}/timeline/frames?limit=100000`)).status, 400, 'a page is capped');
    const { body: located } = await getJson(`${server.api}/timeline/locate?t=${first + 15 * 86400}`);
    assert.ok(located.frame.index > 0 && located.frame.index < FRAMES - 1);
    const { body: byId } = await getJson(`${server.api}/timeline/locate?id=${located.frame.id}`);
    assert.equal(byId.frame.index, located.frame.index);
    assert.equal((await getJson(`${server.api}/timeline/locate?t=${new Date((first + 86400) * 1000).toISOString()}`)).status, 200, 'ISO 8601 times');
    for (const query of ['', 't=yesterday', `t=1&id=1`]) assert.equal((await getJson(`${server.api}/timeline/locate?${query}`)).status, 400, query);
    assert.equal((await getJson(`${server.api}/timeline/locate?id=999999999`)).status, 404);
  });

  it('scrubs through the frames at key-repeat speed with every step shown at once, loading only pages nearby', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems } = await watchedPage(context);
    const fetched: number[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/api/timeline/frames') fetched.push(Number(url.searchParams.get('limit')));
    });
    await page.goto(`${server.url}/timeline`);
    await page.locator('.stage--sharp').waitFor();
    assert.equal(await page.locator('.scrub__position').innerText(), `${FRAMES.toLocaleString('en-US')} / ${FRAMES.toLocaleString('en-US')}`);

    // Hold ← for 400 frames, one step per animation frame (key repeat is slower): after each step the time and
    // position must already show that frame (served from pages read ahead, not waiting for the network).
    const report = (await page.evaluate(`(async () => {
      const slider = document.getElementById('timeline-slider');
      const position = document.querySelector('.scrub__position');
      let late = 0;
      for (let i = 0; i < 400; i++) {
        slider.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', bubbles: true }));
        slider.value = String(Number(slider.value) - 1);
        slider.dispatchEvent(new Event('input', { bubbles: true }));
        const expected = (Number(slider.value) + 1).toLocaleString() + ' / ';
        if (!position.textContent.startsWith(expected) || !document.getElementById('timeline-time').textContent) late++;
        await new Promise(requestAnimationFrame);
      }
      return { late, value: Number(slider.value) };
    })()`)) as { late: number; value: number };
    assert.equal(report.value, FRAMES - 401);
    assert.ok(report.late <= 3, `${report.late} of 400 steps waited for the network`);

    // Real key presses on the focused slider, then a jump into the middle of the month.
    await page.locator('#timeline-slider').focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.locator('.scrub__position').innerText(), `${(FRAMES - 402).toLocaleString('en-US')} / ${FRAMES.toLocaleString('en-US')}`);
    await page.locator('#timeline-slider').evaluate((slider: HTMLInputElement) => {
      slider.value = '25000';
      slider.dispatchEvent(new Event('input', { bubbles: true }));
    });
    const { body: middle } = await getJson(`${server.api}/timeline/frames?offset=25000&limit=1`);
    await page.waitForFunction((id) => document.getElementById('timeline-open')?.getAttribute('href') === `/entry/${id}`, middle.frames[0].id, {
      timeout: 5000,
    });
    await page.locator('.stage--sharp').waitFor();
    await screenshot(page, 'timeline-50000-frames');

    const frames = fetched.reduce((sum, n) => sum + n, 0);
    assert.ok(
      fetched.every((n) => n <= 100),
      'pages of at most 100 frames',
    );
    assert.ok(frames <= 1000, `the browser asked for ${frames} frames`);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('pages the grid through the cursor API as you scroll, never rendering all frames', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems } = await watchedPage(context);
    await page.goto(`${server.url}/`);
    await page.locator('.card').first().waitFor();
    const initial = await page.locator('.card').count();
    assert.ok(initial > 0 && initial <= 150, `${initial} cards at first`);
    // Scroll to the end (again, while it has not grown: as a user keeps scrolling).
    await page.waitForFunction(
      (n) => {
        window.scrollTo(0, document.documentElement.scrollHeight);
        return document.querySelectorAll('.card').length > n;
      },
      initial,
      { polling: 250 },
    );
    const after = await page.locator('.card').count();
    assert.ok(after <= initial + 150, `${after} cards after one scroll`);
    // Newest first, grouped under day headings.
    const ids = await page.locator('.card').evaluateAll((cards) => cards.map((c) => Number((c as HTMLElement).dataset.id)));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
    );
    assert.ok((await page.locator('.day__title').count()) >= 1);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
