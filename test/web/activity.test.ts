// The Activity page in Chromium: one day as a bar per app, each stretch a link into the timeline.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { getJson, upload } from '../helpers/api.js';
import { solidPng } from '../helpers/images.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { launchBrowser, localTime, screenshot, watchedPage } from './helpers.js';

const EXPECT_MS = 20_000;

describe('activity view', () => {
  let server: Awaited<ReturnType<typeof startInProcessServer>>;
  let browser: Browser;
  const ids: Record<string, number> = {};

  before(async () => {
    [server, browser] = await Promise.all([startInProcessServer(), launchBrowser()]);
    const frames = [
      { key: 'editor1', app: 'Editor', title: 'notes.md', timestamp: localTime(0, 9, 0) },
      { key: 'editor2', app: 'Editor', title: 'todo.md', timestamp: localTime(0, 9, 2) },
      { key: 'browser', app: 'Browser', title: 'Docs', timestamp: localTime(0, 15, 30) },
      { key: 'editor3', app: 'Editor', title: 'notes.md', timestamp: localTime(0, 18, 0) },
      { key: 'yesterday', app: 'Mail', title: 'Inbox', timestamp: localTime(1, 14, 0) },
    ];
    let n = 0;
    for (const frame of frames) {
      const response = await upload(server.api, { image: await solidPng(64, 48, `#${(++n * 0x203040).toString(16).padStart(6, '0').slice(0, 6)}`), ...frame });
      assert.equal(response.status, 202);
      ids[frame.key] = response.body.task_id!;
    }
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('draws a bar per app at the right hours, and a click opens the timeline at that stretch', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems } = await watchedPage(context);
    await page.goto(`${server.url}/activity`);
    await page.locator('.activity__row[data-app="Editor"]').waitFor({ timeout: EXPECT_MS });
    assert.deepEqual(await page.locator('.activity__row[data-app]').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.app)), [
      'Editor',
      'Browser',
    ]);

    const editor = page.locator('.activity__row[data-app="Editor"] .activity__stretch');
    assert.equal(await editor.count(), 2, 'the 09:00 stretch and the 18:00 one');
    const bar = await page.locator('.activity__row[data-app="Editor"] .activity__bar').boundingBox();
    const first = await editor.first().boundingBox();
    assert.ok(bar && first);
    assert.ok(Math.abs((first.x - bar.x) / bar.width - 9 / 24) < 0.005, `09:00 sits 9/24 along the bar (${(first.x - bar.x) / bar.width})`);
    const browserStretch = await page.locator('.activity__row[data-app="Browser"] .activity__stretch').boundingBox();
    assert.ok(browserStretch && Math.abs((browserStretch.x - bar.x) / bar.width - 15.5 / 24) < 0.005, '15:30');
    assert.match((await editor.first().getAttribute('aria-label')) ?? '', /^Editor 0?9:00( AM)?–0?9:07( AM)? \(7 min\)$/);
    await screenshot(page, 'activity');

    await editor.first().click();
    await page.waitForURL(/\/timeline\?id=/);
    assert.equal(new URL(page.url()).searchParams.get('id'), String(ids.editor1));
    await page.waitForFunction((id) => document.querySelector('#timeline-open')?.getAttribute('href') === `/entry/${id}`, ids.editor1, { timeout: EXPECT_MS });

    await page.goBack();
    await page.locator('#activity-prev').click();
    await page.locator('.activity__row[data-app="Mail"]').waitFor({ timeout: EXPECT_MS });
    assert.equal(await page.locator('.activity__row[data-app]').count(), 1, 'yesterday: Mail only');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('is built from the same summary the MCP activity tool reads (GET /api/activity), and takes times by the one rule of queries (no phrases)', async () => {
    const start = localTime(0, 0, 0);
    const { status, body } = await getJson(`${server.api}/activity?start=${start}&end=${start + 86_400}`);
    assert.equal(status, 200);
    const editor = body.apps.find((a: { app: string }) => a.app === 'Editor');
    assert.equal(editor.seconds, 120 + 300 + 10, '09:00 until 09:02, then 5 min at most, the last frame 10 s');
    assert.deepEqual(
      editor.windows.map((w: { title: string }) => w.title),
      ['todo.md', 'notes.md'],
    );
    assert.equal(editor.stretches[0].first_frame_id, ids.editor1);
    assert.equal(editor.stretches[0].last_frame_id, ids.editor2);
    const bad = await getJson(`${server.api}/activity?start=someday`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /invalid field 'start'.*someday/);
    // One rule for times in queries (src/api/time.ts): phrases are for the MCP tools only.
    const phrase = await getJson(`${server.api}/activity?start=yesterday`);
    assert.equal(phrase.status, 400);
    assert.match(phrase.body.message, /invalid field 'start'.*yesterday/);
    const yesterday = new Date(localTime(1, 0, 0) * 1000);
    const isoDay = `${yesterday.getFullYear()}-${String(yesterday.getMonth() + 1).padStart(2, '0')}-${String(yesterday.getDate()).padStart(2, '0')}`;
    const iso = await getJson(`${server.api}/activity?start=${isoDay}T00:00:00&end=${isoDay}T23:59:59`);
    assert.equal(iso.status, 200, 'ISO 8601 without a zone: server local time');
    assert.deepEqual(
      iso.body.apps.map((a: { app: string }) => a.app),
      ['Mail'],
    );
    const backwards = await getJson(`${server.api}/activity?start=${start}&end=${start - 60}`);
    assert.equal(backwards.status, 400);
    assert.match(backwards.body.message, /'end' must be after 'start'/);
  });
});
