// The web UI in a real Chromium against the real server (built bin, tesseract.js OCR, SQLite), fed with rendered
// screenshots that were really OCR'd. Screenshots of every page land in test-artifacts/web/ for review.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { getJson, queueCounts, upload, waitUntil } from '../helpers/api.js';
import { renderTextImage } from '../helpers/images.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { launchBrowser, screenshot, watchedPage } from './helpers.js';
import { seedFrames, uploadSeed } from './seed.js';

const EXPECT_MS = 20_000;

describe('web UI', () => {
  let server: ServerProcess;
  let browser: Browser;
  let dataDir: string;
  let ids: number[] = [];
  const seed = seedFrames();

  before(async () => {
    dataDir = tempDir();
    [server, browser] = await Promise.all([startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'tesseract-js' }), launchBrowser()]);
    ids = await uploadSeed(server.api, seed);
    await waitUntil(async () => (await queueCounts(server.api)).completed === seed.length, { what: 'OCR of the seed frames' });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function open(context: BrowserContext, url: string) {
    const watched = await watchedPage(context);
    await watched.page.goto(`${server.url}${url}`);
    return watched;
  }

  /** Waits until every image on screen has loaded (lazy ones further down are not asked for). */
  async function imagesSettled(page: Page) {
    await page.waitForFunction(
      () =>
        [...document.images]
          .filter((img) => {
            const r = img.getBoundingClientRect();
            return r.width > 0 && r.bottom > 0 && r.top < innerHeight && getComputedStyle(img).opacity !== '0';
          })
          .every((img) => img.complete),
      null,
      { timeout: EXPECT_MS },
    );
  }

  it('serves every page, light and dark, at 1280 px and phone width, with no console errors or failed requests', async () => {
    const detailId = ids[2]!; // the Code window: "Remember the walrus in the parking lot"
    const pages: { name: string; url: string; ready: (page: Page) => Promise<void> }[] = [
      {
        name: 'grid',
        url: '/',
        ready: async (page) => {
          await page
            .locator('.card')
            .nth(seed.length - 1)
            .waitFor();
          // Grouped by day, newest first: two frames today, two yesterday, two the day before.
          const days = await page.locator('.day').evaluateAll((days) => days.map((d) => d.querySelectorAll('.card').length));
          assert.deepEqual(days, [2, 2, 2]);
          assert.deepEqual((await page.locator('.day__title').allInnerTexts()).slice(0, 2), ['Today', 'Yesterday']);
        },
      },
      {
        name: 'detail',
        url: `/entry/${detailId}`,
        ready: async (page) => {
          await page.locator('.ocr').waitFor();
          assert.match(await page.locator('.ocr').innerText(), /walrus/i);
        },
      },
      { name: 'timeline', url: '/timeline', ready: async (page) => void (await page.locator('.stage--sharp').waitFor()) },
      { name: 'search', url: '/search?q=falcon', ready: async (page) => void (await page.locator('.result mark').first().waitFor()) },
      {
        name: 'queue',
        url: '/queue',
        ready: async (page) => void (await page.waitForFunction(() => document.getElementById('queue-completed')?.textContent !== '–')),
      },
    ];
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const width of [1280, 390]) {
        const context = await browser.newContext({ viewport: { width, height: width > 600 ? 800 : 844 }, colorScheme, deviceScaleFactor: 1 });
        const { page, problems } = await watchedPage(context);
        for (const { name, url, ready } of pages) {
          problems.length = 0;
          await page.goto(`${server.url}${url}`, { waitUntil: 'domcontentloaded' });
          await ready(page);
          await imagesSettled(page);
          // Headings and controls are labelled for assistive technology.
          assert.equal(await page.locator('h1').count(), 1, `${name}: one h1`);
          const unlabelled = await page.evaluate(() =>
            [...document.querySelectorAll('input, select, button')]
              .filter(
                (el) => !(el as HTMLElement).hidden && !(el.getAttribute('aria-label') || (el as HTMLInputElement).labels?.length || el.textContent?.trim()),
              )
              .map((el) => el.outerHTML.slice(0, 80)),
          );
          assert.deepEqual(unlabelled, [], `${name}: unlabelled controls`);
          // Nothing overflows sideways at phone width.
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          assert.ok(overflow <= 0, `${name} at ${width}px scrolls sideways by ${overflow}px`);
          await screenshot(page, `${name}-${colorScheme}-${width}`);
          assert.deepEqual(problems, [], `${name} (${colorScheme}, ${width}px)`);
        }
        await context.close();
      }
    }
  });

  it('frame detail shows the screenshot, selectable OCR text, the facts, and steps to neighbouring frames', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems } = await open(context, `/entry/${ids[2]}`);
    await page.locator('.ocr').waitFor();
    const facts = await page.locator('.facts').innerText();
    assert.match(facts, /Code/);
    assert.match(facts, /timeline\.ts - openrecall/);
    assert.match(facts, /COMPLETED/);
    assert.match(facts, /1280 × 720/);
    // The text is selectable (not an image of text) and the copy button takes it to the clipboard.
    assert.equal(await page.locator('.ocr').evaluate((el) => getComputedStyle(el).userSelect), 'text');
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.getByRole('button', { name: 'Copy text' }).click();
    assert.match(await page.evaluate(() => navigator.clipboard.readText()), /walrus/i);
    // Zoom: "+" enlarges the image beyond its frame; "Fit" brings it back.
    const fitted = await page.locator('.viewer__image').evaluate((img) => img.clientWidth);
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await page.getByRole('button', { name: 'Zoom in' }).click();
    assert.ok((await page.locator('.viewer__image').evaluate((img) => img.clientWidth)) > fitted);
    await page.getByRole('button', { name: 'Fit', exact: true }).click();
    assert.equal(await page.locator('.viewer__image').evaluate((img) => img.clientWidth), fitted);
    // ← goes to the older frame, → back to the newer one; the links say where they lead.
    await page.locator('h1').click();
    await page.keyboard.press('ArrowLeft');
    await page.waitForURL(`**/entry/${ids[1]}`);
    await page.locator('.ocr', { hasText: 'kernel' }).waitFor();
    await page.getByRole('link', { name: 'Newer' }).click();
    await page.waitForURL(`**/entry/${ids[2]}`);
    await page.locator('.ocr', { hasText: /walrus/i }).waitFor();
    // Back to the grid through the header.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Recent' }).click();
    await page.locator(`.card[data-id="${ids[2]}"]`).waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('finds a word from one screenshot, marks it, keeps the query in the URL and says clearly when nothing matches', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems } = await open(context, '/search');
    await page.getByLabel('Search text').fill('walrus');
    await page.getByLabel('Search text').press('Enter');
    await page.locator('.result').first().waitFor();
    assert.equal(await page.locator('.result').count(), 1);
    assert.equal(await page.locator('.result').getAttribute('data-id'), String(ids[2]));
    assert.deepEqual(
      (await page.locator('.result mark').allInnerTexts()).map((t) => t.toLowerCase()),
      ['walrus'],
    );
    assert.match(page.url(), /\/search\?q=walrus/);
    await screenshot(page, 'search-results');

    // The URL is a bookmark: loading it again shows the same results.
    await page.reload();
    await page.locator('.result mark').first().waitFor();
    assert.equal(await page.getByLabel('Search text').inputValue(), 'walrus');

    // The app filter narrows the results and lands in the URL too.
    await page.getByLabel('Search text').fill('');
    await page.getByLabel('App').selectOption('Firefox');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL(/app=Firefox/);
    await page.waitForFunction(() => document.querySelectorAll('.result').length === 2);
    assert.deepEqual(new Set(await page.locator('.result__meta span').allInnerTexts()), new Set(['Firefox']));

    // Nothing matches: an explicit empty state, not a blank page.
    await page.getByLabel('App').selectOption('');
    await page.getByLabel('Search text').fill('xylophonequartz');
    await page.getByLabel('Search text').press('Enter');
    await page.getByText('Nothing matches “xylophonequartz”').waitFor();
    assert.equal(await page.locator('.result').count(), 0);
    await screenshot(page, 'search-empty');
    assert.deepEqual(problems, []);

    // When the server fails, the page says so with the server's reason instead of showing nothing.
    const failing = await watchedPage(context);
    await failing.page.route('**/api/search?*', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ statusCode: 503, error: 'UNAVAILABLE', message: 'the index is being rebuilt' }),
      }),
    );
    await failing.page.goto(`${server.url}/search?q=walrus`);
    const alert = failing.page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /Search failed: the index is being rebuilt/);
    await screenshot(failing.page, 'search-error');
    await context.close();
  });

  it('shows a new upload in the grid without a reload and its badge follows the worker to COMPLETED', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems } = await open(context, '/');
    await page.locator(`.card[data-id="${ids.at(-1)}"]`).waitFor();
    // Record every badge each card shows, and mark this document to prove it is never reloaded.
    // (A string: tsx would wrap named functions in a helper the page does not have.)
    await page.evaluate(`
      window.marker = 42;
      window.seen = {};
      new MutationObserver(() => {
        for (const card of document.querySelectorAll('.card')) {
          const states = (window.seen[card.dataset.id] ??= []);
          if (states.at(-1) !== card.dataset.status) states.push(card.dataset.status);
        }
      }).observe(document.querySelector('.days'), { childList: true, subtree: true, attributes: true });
    `);

    // Three dense screens at once: one worker OCRs them one after another, so the last waits in the queue.
    const fresh: number[] = [];
    for (let i = 0; i < 3; i++) {
      const lines = Array.from({ length: 12 }, (_, n) => `Live upload ${i} line ${n} with the word nectarine and some ordinary text to read`);
      const response = await upload(server.api, { image: await renderTextImage(lines, { seed: 100 + i }), app: 'Editor', title: `Live ${i}` });
      fresh.push(response.body.task_id as number);
    }
    const last = fresh.at(-1)!;
    await page.locator(`.card[data-id="${last}"]`).waitFor({ timeout: EXPECT_MS });
    await screenshot(page, 'grid-live-arriving');
    await page.locator(`.card[data-id="${last}"] .badge`, { hasText: 'COMPLETED' }).waitFor({ timeout: 60_000 });
    const { seen, marker } = (await page.evaluate('({ seen: window.seen, marker: window.marker })')) as { seen: Record<string, string[]>; marker: number };
    assert.equal(marker, 42, 'the page was not reloaded');
    const states = seen[String(last)]!;
    assert.ok(['PENDING', 'PROCESSING'].includes(states[0]!), `first badge was ${states[0]}`);
    assert.equal(states.at(-1), 'COMPLETED');
    // Newest first: the new cards sit above the seeded ones.
    const order = await page.locator('.card').evaluateAll((cards) => cards.map((c) => Number((c as HTMLElement).dataset.id)));
    assert.deepEqual(order.slice(0, 3), [...fresh].reverse());
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('shows a failed frame with its error in the queue page, and Retry failed queues it again', async () => {
    // An honest, fixable failure: the frame's day directory cannot be created because a file is in the way.
    const captured = Date.UTC(2003, 4, 17, 12, 0, 0) / 1000;
    const blocker = path.join(dataDir, 'screenshots', '2003', '05', '17');
    fs.mkdirSync(path.dirname(blocker), { recursive: true });
    fs.writeFileSync(blocker, 'not a directory');

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page, problems } = await open(context, '/queue');
    await page.waitForFunction(() => document.getElementById('queue-completed')?.textContent !== '–');
    assert.equal(await page.locator('#retry-failed').isDisabled(), true);
    // Storage figures from the queue status: used bytes (no budget configured), retention.
    assert.match(await page.locator('#queue-storage').innerText(), /^\d+(\.\d)? (B|KB|MB|GB)$/);
    await page.getByText('keep forever').waitFor();
    assert.notEqual(await page.locator('#queue-oldest-kept').innerText(), 'none', 'frames are stored: the oldest has a time');
    // Compaction figures (frames here are fresh: nothing compacted yet, those waiting counted).
    assert.match(
      await page.locator('#queue-compaction').innerText(),
      /^(nothing compacted yet|[\d,]+ frames in .+ of their size before)( · [\d,]+ not yet \(after \d+ min\))?$/,
    );

    const response = await upload(server.api, {
      image: await renderTextImage(['Zeppelin museum opening hours'], { seed: 200 }),
      app: 'Files',
      title: 'Archive 2003',
      timestamp: captured,
    });
    const id = response.body.task_id as number;
    const item = page.locator(`.failed__item[data-id="${id}"]`);
    await item.waitFor({ timeout: 60_000 });
    assert.match(await item.locator('.failed__error').innerText(), /EEXIST|ENOTDIR|not a directory|already exists/);
    await page.waitForFunction(() => document.getElementById('queue-failed')?.textContent === '1', null, { timeout: EXPECT_MS });
    // Every page's header says that a frame needs attention.
    await page.locator('#nav-queue-count').filter({ hasText: /^1/ }).waitFor({ timeout: EXPECT_MS });
    await page.getByRole('heading', { name: 'Failed frames' }).scrollIntoViewIfNeeded();
    await screenshot(page, 'queue-failed');

    // Its own page says why it failed and offers a retry.
    const detail = await open(context, `/entry/${id}`);
    await detail.page
      .getByRole('alert')
      .filter({ hasText: /Processing failed: .*EEXIST/ })
      .waitFor();
    assert.equal(await detail.page.getByRole('button', { name: 'Retry' }).isEnabled(), true);
    assert.match(await detail.page.locator('.facts').innerText(), /FAILED/);
    await imagesSettled(detail.page);
    assert.ok(await detail.page.locator('.viewer__image').evaluate((img: HTMLImageElement) => img.naturalWidth > 0), 'the screenshot is shown');
    await screenshot(detail.page, 'detail-failed');
    await detail.page.close();

    // The user fixes the disk problem and presses the button.
    fs.rmSync(blocker);
    await page.locator('#retry-failed').click();
    await page.getByRole('status').filter({ hasText: 'queued again' }).waitFor();
    await page.waitForFunction(() => document.getElementById('queue-failed')?.textContent === '0', null, { timeout: EXPECT_MS });
    await item.waitFor({ state: 'detached' });
    await waitUntil(async () => (await getJson(`${server.api}/entries/${id}`)).body.status === 'COMPLETED', { what: 'the retried frame to complete' });
    assert.equal(await page.locator('#retry-failed').isDisabled(), true);
    await page.locator('#nav-queue-count').waitFor({ state: 'hidden', timeout: EXPECT_MS });
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('deletes a frame after confirmation, and it is gone from the grid, the timeline and search', async () => {
    const target = ids[3]!; // Slack: "Who is bringing the lantern for the garden party"
    const { body: before } = await getJson(`${server.api}/timeline`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems } = await open(context, `/entry/${target}`);
    await page.locator('.ocr').waitFor();

    // Cancel keeps it.
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await screenshot(page, 'detail-delete-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal((await getJson(`${server.api}/entries/${target}`)).status, 200);

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete frame' }).click();
    await page.waitForURL(`${server.url}/`);
    await page.locator('.card').first().waitFor();
    assert.equal(await page.locator(`.card[data-id="${target}"]`).count(), 0);
    assert.equal((await getJson(`${server.api}/entries/${target}`)).status, 404);

    // Search no longer finds its word.
    await page.goto(`${server.url}/search?q=lantern`);
    await page.getByText('Nothing matches “lantern”').waitFor();

    // The timeline has one frame fewer, and its moment now shows a neighbour.
    await page.goto(`${server.url}/timeline?t=${seed[3]!.timestamp}`);
    await page.locator('.stage--sharp').waitFor();
    assert.equal(
      await page
        .locator('.scrub__position')
        .innerText()
        .then((t) => t.split('/')[1]!.trim().replace(/\D/g, '')),
      String(before.count - 1),
    );
    assert.notEqual(await page.locator('#timeline-open').getAttribute('href'), `/entry/${target}`);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('scrubs the timeline with the slider and the arrow keys, and jumps to a date and time', async () => {
    const { body: summary } = await getJson(`${server.api}/timeline`);
    const { body: all } = await getJson(`${server.api}/timeline/frames?offset=0&limit=500`);
    const frames = all.frames as { id: number; timestamp: number }[];
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems } = await open(context, '/timeline');
    await page.locator('.stage--sharp').waitFor();
    const shown = async () => ({
      href: await page.locator('#timeline-open').getAttribute('href'),
      position: await page.locator('.scrub__position').innerText(),
      time: await page.locator('#timeline-time').getAttribute('datetime'),
    });
    const expect = (i: number) => ({
      href: `/entry/${frames[i]!.id}`,
      position: `${i + 1} / ${summary.count}`,
      time: new Date(frames[i]!.timestamp * 1000).toISOString(),
    });
    const newest = summary.count - 1;
    assert.deepEqual(await shown(), expect(newest));

    // The slider has focus: ← and → move one frame in time, and the frame and its time follow at once.
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'timeline-slider');
    await page.keyboard.press('ArrowLeft');
    assert.deepEqual(await shown(), expect(newest - 1));
    await page.keyboard.press('ArrowLeft');
    assert.deepEqual(await shown(), expect(newest - 2));
    await page.keyboard.press('ArrowRight');
    assert.deepEqual(await shown(), expect(newest - 1));
    await page.keyboard.press('Home');
    assert.deepEqual(await shown(), expect(0));
    await page.locator('.stage--sharp').waitFor();
    await screenshot(page, 'timeline-oldest');

    // The arrow keys work from anywhere on the page, not only on the slider.
    await page.locator('h1').click();
    await page.keyboard.press('ArrowRight');
    assert.deepEqual(await shown(), expect(1));

    // The address follows, so the moment can be bookmarked.
    await page.waitForURL(new RegExp(`/timeline\\?t=${frames[1]!.timestamp}`));

    // Jump to a date and time: the frame captured closest to it.
    const target = seed[4]!; // today 08:45
    const local = new Date(target.timestamp * 1000);
    const pad = (n: number) => String(n).padStart(2, '0');
    await page
      .getByLabel('Jump to')
      .fill(`${local.getFullYear()}-${pad(local.getMonth() + 1)}-${pad(local.getDate())}T${pad(local.getHours())}:${pad(local.getMinutes() + 1)}`);
    await page.getByRole('button', { name: 'Go' }).click();
    await page.waitForFunction((id) => document.getElementById('timeline-open')?.getAttribute('href') === `/entry/${id}`, ids[4]);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('shows its own page for a mistyped address, while unknown API paths stay JSON', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const response = await page.goto(`${server.url}/recnet`);
    assert.equal(response?.status(), 404);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await page.getByRole('link', { name: 'See recent frames' }).click();
    await page.locator('.card').first().waitFor();
    const api = await page.goto(`${server.url}/api/nothing-here`);
    assert.equal(api?.status(), 404);
    assert.equal((await api!.json()).error, 'NOT_FOUND');
    const plain = await fetch(`${server.url}/recnet`);
    assert.equal(plain.status, 404);
    assert.equal((await plain.json()).statusCode, 404, 'clients that do not ask for HTML get the JSON 404');
    await context.close();
  });
});
