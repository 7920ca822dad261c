// The Ask page in a real Chromium against the real server (in-process, SQLite, screen text set through the store)
// and a local OpenAI-compatible chat server with a naive model.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { loadAiConfig } from '../../src/ai/config.js';
import { FakeOpenAi } from '../helpers/fake-openai.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { naiveAnswer } from '../helpers/naive-chat-model.js';
import { addTextFrame } from '../helpers/text-frames.js';
import { launchBrowser, screenshot, watchedPage } from './helpers.js';

type Server = Awaited<ReturnType<typeof startInProcessServer>>;
const EXPECT_MS = 20_000;

describe('Ask page', () => {
  let fake: FakeOpenAi;
  let server: Server;
  let bare: Server;
  let browser: Browser;
  const ids = new Map<Server, number>();

  before(async () => {
    fake = await FakeOpenAi.start();
    fake.chatAnswer = naiveAnswer;
    const ai = loadAiConfig({ OPENRECALL_EMBEDDING_PROVIDER: 'none', OPENRECALL_CHAT_URL: fake.url, OPENRECALL_CHAT_MODEL: 'naive' });
    [server, bare, browser] = await Promise.all([
      startInProcessServer({ noProcessing: true, ai }),
      startInProcessServer({ noProcessing: true }),
      launchBrowser(),
    ]);
    const now = Math.floor(Date.now() / 1000);
    for (const s of [server, bare]) {
      ids.set(
        s,
        await addTextFrame(s.store, {
          timestamp: now - 600,
          text: 'Dentist appointment with Dr. Moreau on Tuesday at 10:30',
          app: 'Calendar',
          title: 'Week 14',
        }),
      );
      await addTextFrame(s.store, { timestamp: now - 500, text: 'Grocery list: oat milk, lemons, rye bread', app: 'Notes', title: 'Shopping' });
    }
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await bare?.close();
    await fake?.close();
  });

  it('shows the answer, its citations as thumbnails linking to the frames, and the context on demand', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const { page, problems } = await watchedPage(context);
      await page.goto(`${server.url}/ask`);
      await page.getByLabel('Question').fill('When is the dentist appointment?');
      await page.getByRole('button', { name: 'Ask' }).click();
      const answer = page.locator('.ask__answer');
      await answer.filter({ hasText: 'Moreau' }).waitFor({ timeout: EXPECT_MS });
      const id = ids.get(server)!;
      const citations = page.locator('.ask__citations a.citation');
      assert.equal(await citations.count(), 1);
      assert.equal(await citations.first().getAttribute('href'), `/entry/${id}`);
      assert.equal(await citations.first().locator('img').count(), 1, 'a thumbnail');
      assert.equal(await answer.locator(`a[href="/entry/${id}"]`).count(), 1, 'the label in the answer links to its frame');
      assert.equal(new URL(page.url()).searchParams.get('q'), 'When is the dentist appointment?');

      const shown = page.locator(`.ask__context li[data-id="${id}"]`);
      assert.equal(await shown.isVisible(), false, 'the context is hidden at first');
      await page.getByText(/Show context/).click();
      await shown.waitFor({ state: 'visible', timeout: EXPECT_MS });
      assert.match((await shown.textContent()) ?? '', /Dr\. Moreau/);
      await screenshot(page, 'ask-answer');

      await citations.first().click();
      await page.waitForURL(`**/entry/${id}`, { timeout: EXPECT_MS });
      assert.deepEqual(
        problems.filter((p) => p.startsWith('page error')),
        [],
      );
    } finally {
      await context.close();
    }
  });

  it('without a model: says how to configure one and shows the best matching moments', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const { page } = await watchedPage(context);
      await page.goto(`${bare.url}/ask?q=${encodeURIComponent('dentist appointment')}`);
      await page.locator('.notice').filter({ hasText: 'OPENRECALL_CHAT_URL' }).waitFor({ timeout: EXPECT_MS });
      const moment = page.locator(`.ask__citations a.citation[href="/entry/${ids.get(bare)}"]`);
      await moment.waitFor({ timeout: EXPECT_MS });
      await screenshot(page, 'ask-no-model');
    } finally {
      await context.close();
    }
  });
});
