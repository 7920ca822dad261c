// Filters before the vector search (issue 24): the frames a filtered vector search may consider come from an index
// range (SqliteSearchRepository.filteredIds), and must be exactly the frames the filters select. On a generated
// database: filteredIds against the filters applied by hand to every frame, and a filtered hybrid search against
// the unfiltered one filtered by hand.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type EmbeddingProvider, normalize } from '../src/ai/embedding-provider.js';
import { SearchService } from '../src/search/search-service.js';
import { VectorIndex } from '../src/search/vector-index.js';
import type { SearchFilters } from '../src/store/ports.js';
import { seededRandom } from './helpers/seeded-random.js';
import { newFrame } from './helpers/store-frames.js';
import { openTestStore, STORE_KINDS, type TestStore } from './helpers/stores.js';
import { addTextFrame } from './helpers/text-frames.js';

const T0 = 1_760_000_000;
const MODEL = 'filtered-search-model';
const DIM = 16;
const COMPLETED = 700;
const PENDING = 60;
const TITLES = ['Quarterly Report - Writer', 'Café menu - Browser', 'inbox - Mail', 'report draft', 'Terminal', 'CA Budget', 'cafeteria - Browser'];

interface Frame {
  id: number;
  timestamp: number;
  app: string;
  title: string;
  status: 'COMPLETED' | 'PENDING';
}

/** The filters as SQL applies them: app equal and title a substring, ASCII case ignored; the time range inclusive. */
function passes(frame: Frame, f: SearchFilters): boolean {
  const lower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return (
    frame.status === (f.status ?? 'COMPLETED') &&
    (f.start === undefined || frame.timestamp >= f.start) &&
    (f.end === undefined || frame.timestamp <= f.end) &&
    (!f.app || lower(frame.app) === lower(f.app)) &&
    (!f.window || lower(frame.title).includes(lower(f.window)))
  );
}

const mid = T0 + COMPLETED * 5;
const FILTERS: SearchFilters[] = [
  { app: 'app2' },
  { app: 'App2', start: T0 + 1000, end: mid },
  { start: T0 + 2000, end: mid },
  { start: mid },
  { end: T0 + 3000 },
  { window: 'report' },
  { window: 'cafe' }, // the trigram index folds diacritics: "Café" is found there too, and must be taken out again
  { window: 'Café' },
  { window: 'CA' }, // too short for the trigram index
  { app: 'App1', window: 'Report' },
  { app: 'App3', window: 'ca' },
  { window: 'Report', start: mid, end: mid + 2000 },
  { start: T0, end: mid, window: 'menu' },
  { app: 'App2', status: 'PENDING' },
  { start: mid, status: 'PENDING' },
];

for (const kind of STORE_KINDS) {
  describe(`filtered search on a generated database (${kind})`, () => {
    let opened: TestStore;
    const frames: Frame[] = [];
    const random = seededRandom(2025);
    const vectorOf = () => normalize(Float32Array.from({ length: DIM }, () => random() * 2 - 1));
    const provider: EmbeddingProvider = { model: MODEL, embed: async (texts) => texts.map(() => vectorOf()) };

    before(async () => {
      opened = await openTestStore(kind);
      const { store } = opened;
      for (let i = 0; i < COMPLETED; i++) {
        const frame = { timestamp: T0 + i * 10, app: `App${i % 5}`, title: TITLES[(i * 3) % TITLES.length]! };
        const id = await addTextFrame(store, { ...frame, text: `${i % 2 === 0 ? 'alpha' : 'beta'} words of frame ${i}` });
        await store.embeddings.save(id, MODEL, vectorOf());
        frames.push({ id, ...frame, status: 'COMPLETED' });
      }
      // Frames still waiting for processing, among the others in time: another status, in the same ranges.
      for (let i = 0; i < PENDING; i++) {
        const frame = { timestamp: T0 + 5 + i * 113, app: `App${i % 3}`, title: TITLES[i % TITLES.length]! };
        const { id } = await store.frames.insertPending(newFrame(frame.timestamp, frame));
        frames.push({ id, ...frame, status: 'PENDING' });
      }
    });
    after(async () => {
      await opened?.cleanup();
    });

    it('filteredIds gives exactly the frames the filters select, or nothing when they are more than the maximum', async () => {
      for (const filters of FILTERS) {
        const expected = frames.filter((f) => passes(f, filters)).map((f) => f.id);
        assert.ok(expected.length > 0, `some frames pass ${JSON.stringify(filters)}`);
        const ids = await opened.store.search.filteredIds(filters, 20_000);
        assert.deepEqual(
          [...(ids ?? [])].sort((a, b) => a - b),
          expected.sort((a, b) => a - b),
          JSON.stringify(filters),
        );
        assert.equal(await opened.store.search.filteredIds(filters, expected.length - 1), undefined, `one more than ${expected.length - 1}`);
        assert.equal((await opened.store.search.filteredIds(filters, expected.length))?.size, expected.length);
      }
    });

    it('a filtered hybrid search returns the frames of the unfiltered one that pass the filters', async () => {
      const index = new VectorIndex(MODEL, opened.store.embeddings);
      const service = new SearchService(opened.store.search, { provider, index });
      const byId = new Map(frames.map((f) => [f.id, f]));
      for (const filters of FILTERS.filter((f) => !f.status)) {
        // Deep enough that nothing is cut off: both lists hold every frame that can match.
        const request = { q: 'alpha', mode: 'hybrid' as const, limit: 1000, offset: 0, group: false };
        const unfiltered = await service.search(request);
        const filtered = await service.search({ ...request, ...filters });
        const expected = unfiltered.results.filter((r) => passes(byId.get(r.id)!, filters)).map((r) => r.id);
        assert.ok(expected.length > 0, JSON.stringify(filters));
        assert.deepEqual(
          filtered.results.map((r) => r.id).sort((a, b) => a - b),
          expected.sort((a, b) => a - b),
          JSON.stringify(filters),
        );
      }
    });
  });
}
