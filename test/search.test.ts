import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getJson, queueCounts, upload, waitUntil } from './helpers/api.js';
import { renderTextImage } from './helpers/images.js';
import { startInProcessServer } from './helpers/in-process-server.js';
import { hostileQueries } from './helpers/hostile-queries.js';
import { STORE_KINDS } from './helpers/stores.js';

type Server = Awaited<ReturnType<typeof startInProcessServer>>;

const T0 = 1_760_000_000; // 2025-10-09T08:53:20Z

/** Screens with known words, really OCR'd by the server's tesseract.js pipeline. */
const FRAMES = [
  {
    key: 'meeting',
    app: 'Calendar',
    title: 'Budget review - Calendar',
    t: T0,
    lines: ['Quarterly budget meeting with the finance team', 'Agenda: hiring plan and travel costs'],
  },
  {
    key: 'invoice',
    app: 'Mail',
    title: 'Invoice 4411 from Acme - Mail',
    t: T0 + 100,
    lines: ['Your invoice from Acme Corporation is overdue', 'Please pay within fourteen days'],
  },
  {
    key: 'roadmap',
    app: 'Writer',
    title: '系统设计文档 - Writer',
    t: T0 + 200,
    lines: ['Project roadmap: database migration', 'Search latency goals for the next release'],
  },
  {
    key: 'sheet',
    app: 'Sheets',
    title: 'Budget 2027.xlsx',
    t: T0 + 300,
    lines: ['Budget forecast budget actuals budget variance', 'Marketing budget and sales budget summary'],
  },
  {
    key: 'escape',
    app: 'Browser',
    title: '<script>alert(1)</script> & friends',
    t: T0 + 400,
    lines: ['Reading about cross site scripting attacks', 'Escaping output keeps pages safe'],
  },
];

for (const kind of STORE_KINDS)
  describe(`search (${kind})`, () => {
    let server: Server;
    const ids = new Map<string, number>();
    after(() => server.close());

    before(async () => {
      server = await startInProcessServer({ ocrEngine: 'tesseract-js' }, { store: kind });
      for (const [i, frame] of FRAMES.entries()) {
        const image = await renderTextImage(frame.lines, { width: 1280, height: 720, fontSize: 24, seed: i + 1 });
        const response = await upload(server.api, { image, app: frame.app, title: frame.title, timestamp: frame.t, captureId: `search-${frame.key}` });
        ids.set(frame.key, response.body.task_id as number);
      }
      await waitUntil(async () => (await queueCounts(server.api)).completed === FRAMES.length, { what: 'OCR of all frames', timeoutMs: 120_000 });
      // A frame that failed processing (its image is missing) but whose title matches: not a search result by default.
      await server.store.frames.insertPending({
        captureId: 'search-draft',
        timestamp: T0 + 500,
        app: 'Sheets',
        title: 'Budget draft (unsaved)',
        monitor: 0,
        imagePath: 'screenshots/none.png',
        width: 10,
        height: 10,
        bytes: 100,
        receivedAt: T0 + 500,
      });
      server.processor.notify();
      await waitUntil(async () => (await queueCounts(server.api)).failed === 1, { what: 'the frame without an image to fail' });
    });

    const search = async (params: Record<string, string>) => {
      const { status, body } = await getJson(`${server.api}/search?${new URLSearchParams(params)}`);
      assert.equal(status, 200, JSON.stringify(body));
      return body as {
        total: number;
        mode: string;
        results: Array<{ id: number; snippet: string; score: number; timestamp: number; app: string; title: string; thumbnail_url: string }>;
      };
    };
    const keysOf = (results: Array<{ id: number }>) => results.map((r) => [...ids].find(([, id]) => id === r.id)?.[0] ?? `#${r.id}`);

    it('finds words the OCR read on screen, the most relevant first', async () => {
      const body = await search({ q: 'budget' });
      assert.equal(body.mode, 'keyword');
      assert.deepEqual(keysOf(body.results), ['sheet', 'meeting']);
      assert.equal(body.total, 2);
      assert.ok(body.results[0]!.score > body.results[1]!.score, JSON.stringify(body.results));
      assert.equal(body.results[0]!.thumbnail_url, `/api/entries/${ids.get('sheet')}/thumbnail`);
    });

    it('requires every word, in any order', async () => {
      assert.deepEqual(keysOf((await search({ q: 'team quarterly' })).results), ['meeting']);
      assert.deepEqual(keysOf((await search({ q: 'quarterly invoice' })).results), []);
    });

    it('stems English words: "meetings" finds "meeting", "migrated" finds "migration"', async () => {
      assert.deepEqual(keysOf((await search({ q: 'meetings' })).results), ['meeting']);
      assert.deepEqual(keysOf((await search({ q: 'migrated' })).results), ['roadmap']);
    });

    it('matches "quoted phrases" in order only', async () => {
      assert.deepEqual(keysOf((await search({ q: '"finance team"' })).results), ['meeting']);
      assert.deepEqual(keysOf((await search({ q: '"team finance"' })).results), []);
    });

    it('excludes -words', async () => {
      assert.deepEqual(keysOf((await search({ q: 'budget -meeting' })).results), ['sheet']);
      assert.deepEqual(keysOf((await search({ q: 'budget -"finance team"' })).results), ['sheet']);
    });

    it('matches prefix* terms', async () => {
      assert.deepEqual(keysOf((await search({ q: 'roadm*' })).results), ['roadmap']);
      assert.deepEqual(keysOf((await search({ q: 'corpor*' })).results), ['invoice']);
    });

    it('finds substrings and CJK through the trigram index: "voice" finds "invoice", 设计 finds 系统设计文档', async () => {
      const voice = await search({ q: 'voice' });
      assert.deepEqual(keysOf(voice.results), ['invoice']);
      assert.match(voice.results[0]!.snippet, /in<mark>voice<\/mark>/i);
      const cjk = await search({ q: '设计' });
      assert.deepEqual(keysOf(cjk.results), ['roadmap']);
      assert.match(cjk.results[0]!.snippet, /系统<mark>设计<\/mark>文档/);
      assert.deepEqual(keysOf((await search({ q: '设计文档' })).results), ['roadmap'], 'three or more CJK characters use the trigram index');
    });

    it('marks matches in an HTML-escaped snippet', async () => {
      const body = await search({ q: 'attacks' });
      assert.deepEqual(keysOf(body.results), ['escape']);
      assert.match(body.results[0]!.snippet, /<mark>attacks<\/mark>/);
      const title = await search({ q: 'friends' });
      assert.ok(!title.results[0]!.snippet.includes('<script>'), title.results[0]!.snippet);
      assert.match(title.results[0]!.snippet, /&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; <mark>friends<\/mark>/);
    });

    it('filters by time (Unix seconds or ISO 8601), app (exact) and window (substring)', async () => {
      assert.deepEqual(keysOf((await search({ q: 'budget', start: String(T0 + 1) })).results), ['sheet']);
      assert.deepEqual(keysOf((await search({ q: 'budget', end: new Date((T0 + 10) * 1000).toISOString() })).results), ['meeting']);
      assert.deepEqual(keysOf((await search({ q: 'budget', app: 'calendar' })).results), ['meeting']);
      assert.deepEqual(keysOf((await search({ q: 'budget', window: '2027' })).results), ['sheet']);
      assert.deepEqual(keysOf((await search({ q: '', app: 'Mail' })).results), ['invoice'], 'filters alone, without words');
    });

    it('returns only COMPLETED frames unless asked for another status', async () => {
      assert.ok(!(await search({ q: 'draft' })).results.length);
      assert.equal((await search({ q: 'draft', status: 'FAILED' })).results.length, 1);
    });

    it('sorts by time on request and pages with limit and offset, with the total count', async () => {
      assert.deepEqual(keysOf((await search({ q: 'budget', sort: 'time' })).results), ['sheet', 'meeting']);
      const all = await search({ q: '', sort: 'time' });
      assert.deepEqual(keysOf(all.results), ['escape', 'sheet', 'roadmap', 'invoice', 'meeting']);
      const page = await search({ q: '', limit: '2', offset: '2' });
      assert.equal(page.total, 5);
      assert.deepEqual(keysOf(page.results), ['roadmap', 'invoice']);
    });

    it('keeps the index in step: a deleted frame disappears, a re-processed one is found by its new text', async () => {
      const id = ids.get('escape')!;
      await server.store.frames.saveResults(id, { text: 'completely different words about zeppelins' });
      assert.deepEqual(keysOf((await search({ q: 'zeppelin' })).results), ['escape']);
      assert.deepEqual(keysOf((await search({ q: 'attacks' })).results), [], 'the old OCR text is out of the index');
      assert.equal((await fetch(`${server.api}/entries/${id}`, { method: 'DELETE' })).status, 200);
      assert.deepEqual(keysOf((await search({ q: 'zeppelin' })).results), []);
      assert.deepEqual(keysOf((await search({ q: 'friends' })).results), []);
    });

    it('lists apps and search capabilities', async () => {
      const { body: apps } = await getJson(`${server.api}/apps`);
      assert.ok(apps.apps.some((a: { app: string; count: number }) => a.app === 'Sheets' && a.count === 2));
      const { body: caps } = await getJson(`${server.api}/capabilities`);
      assert.deepEqual(caps.search_modes, ['keyword']);
      assert.equal(caps.default_search_mode, 'keyword');
    });

    it(`treats every hostile string as plain input: ${hostileQueries().length} queries, no 500, no FTS error`, async () => {
      const queries = hostileQueries();
      assert.ok(queries.length >= 200);
      for (const q of queries) {
        for (const sort of ['relevance', 'time']) {
          const response = await fetch(`${server.api}/search?${new URLSearchParams({ q, sort })}`);
          const text = await response.text();
          assert.equal(response.status, 200, `${JSON.stringify(q.slice(0, 80))}: ${text.slice(0, 300)}`);
          assert.doesNotMatch(text, /fts5|syntax error|sqlite|malformed MATCH|unterminated|tsquery|postgres/i, JSON.stringify(q.slice(0, 80)));
          assert.ok(Array.isArray(JSON.parse(text).results));
        }
      }
      // Raw, invalid percent-encoding and invalid UTF-8 in the URL itself.
      for (const raw of ['%', '%zz', '%ED%A0%80', '%C3%28', '%FF%FE']) {
        const response = await fetch(`${server.api}/search?q=${raw}`);
        assert.ok(response.status < 500, `${raw}: ${response.status}`);
      }
      assert.equal((await getJson(`${server.api}/health`)).status, 200);
    });
  });
