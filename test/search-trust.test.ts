import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { normalize } from '../src/ai/embedding-provider.js';
import { OpenAiEmbeddings } from '../src/ai/openai-embeddings.js';
import { SearchService } from '../src/search/search-service.js';
import { VectorIndex } from '../src/search/vector-index.js';
import type { VectorFloor } from '../src/search/vector-floor.js';
import { FakeOpenAi } from './helpers/fake-openai.js';
import { openTestStore, STORE_KINDS, type TestStore } from './helpers/stores.js';
import { addTextFrame } from './helpers/text-frames.js';

const T0 = 1_760_000_000;
const DOC = 'Design document: the cache keeps recent pages in memory and evicts the least recently used page when it is full';
const MODEL = 'fake-bag-of-words';

/** Exclusions, the vector floor and moments, through the search service over each real store. */
for (const kind of STORE_KINDS) {
  describe(`search you can trust (${kind})`, () => {
    let opened: TestStore;
    let fake: FakeOpenAi;
    const ids: Record<string, number> = {};
    let provider: OpenAiEmbeddings;
    const service = (floor?: VectorFloor) =>
      new SearchService(opened.store.search, { provider, index: new VectorIndex(MODEL, opened.store.embeddings), ...(floor ? { floor } : {}) });
    const FLOOR: VectorFloor = { withoutMatches: 0.3, withMatches: 0.5 };

    before(async () => {
      opened = await openTestStore(kind);
      fake = await FakeOpenAi.start();
      provider = new OpenAiEmbeddings({ provider: 'openai', url: fake.url, model: MODEL, apiKey: '', dim: 0, timeoutMs: 10_000 });
      const frames = {
        marmalade: { timestamp: T0, text: 'weekend breakfast with marmalade and toast', app: 'Notes', title: 'weekend' },
        hiking: { timestamp: T0 + 60, text: 'weekend hiking trip to the mountains', app: 'Notes', title: 'trip' },
        budget: { timestamp: T0 + 120, text: 'quarterly budget spreadsheet revenue forecast', app: 'Calc', title: 'budget.ods' },
        garage: { timestamp: T0 + 180, text: 'car repair at the garage invoice', app: 'Mail', title: 'garage' },
        // A document read for four minutes: near-identical frames (one word differs in the third).
        doc1: { timestamp: T0 + 1000, text: DOC, app: 'Reader', title: 'design.pdf' },
        doc2: { timestamp: T0 + 1120, text: DOC, app: 'Reader', title: 'design.pdf' },
        doc3: { timestamp: T0 + 1240, text: `${DOC} again`, app: 'Reader', title: 'design.pdf' },
        // The same text two hours later, and at once in another window: other moments.
        docLater: { timestamp: T0 + 8200, text: DOC, app: 'Reader', title: 'design.pdf' },
        docElsewhere: { timestamp: T0 + 1060, text: DOC, app: 'Browser', title: 'design.pdf - mirror' },
      };
      for (const [key, frame] of Object.entries(frames)) {
        ids[key] = await addTextFrame(opened.store, frame);
        await opened.store.embeddings.save(ids[key]!, MODEL, normalize(new Float32Array(fake.vector(frame.text))));
      }
    });
    after(async () => {
      await opened?.cleanup();
      await fake?.close();
    });

    it('excluded words remove frames in every mode, and the query vector is made of the included words only', async () => {
      for (const mode of ['keyword', 'semantic', 'hybrid'] as const) {
        const all = await service().search({ q: 'weekend', mode, limit: 20, offset: 0 });
        assert.ok(
          all.results.some((r) => r.id === ids.marmalade),
          `${mode}: the marmalade frame matches "weekend"`,
        );
        for (const q of ['weekend -marmalade', 'weekend -"marmalade and toast"']) {
          const answer = await service().search({ q, mode, limit: 20, offset: 0 });
          const found = [...answer.results, ...(answer.related ?? [])].map((r) => r.id);
          assert.ok(!found.includes(ids.marmalade!), `${mode} "${q}": the excluded frame is gone (${found})`);
          assert.ok(found.includes(ids.hiking!), `${mode} "${q}": the other weekend frame stays`);
        }
        if (mode !== 'keyword') assert.equal(fake.requests.at(-1)!.body.input[0], 'weekend', 'the embedded query is "weekend"');
      }
    });

    it('a word on one screen finds that screen alone; the frames only the vectors found are related, apart', async () => {
      const strict = await service(FLOOR).search({ q: 'marmalade', mode: 'hybrid', limit: 20, offset: 0 });
      assert.deepEqual(
        strict.results.map((r) => r.id),
        [ids.marmalade],
      );
      assert.ok((strict.related ?? []).length > 0 && !strict.related!.some((r) => r.id === ids.marmalade));
      // Without a floor the vectors pad the results with every other frame: what the floor is for.
      const padded = await service().search({ q: 'marmalade', mode: 'hybrid', limit: 20, offset: 0 });
      assert.ok(padded.results.length > 1);
    });

    it('a paraphrase (no word in common) still finds its screen above the floor', async () => {
      const answer = await service(FLOOR).search({ q: 'automobile', mode: 'hybrid', limit: 20, offset: 0 });
      assert.equal(answer.results[0]?.id, ids.garage);
      assert.ok(!answer.results.some((r) => r.id === ids.budget));
    });

    it('folds near-identical consecutive frames of one window into a moment that opens on its best frame', async () => {
      for (const mode of ['keyword', 'hybrid'] as const) {
        const grouped = await service(FLOOR).search({ q: 'cache evicts', mode, limit: 20, offset: 0 });
        const moment = grouped.results.find((r) => r.moment);
        assert.ok(moment, `${mode}: one result is a moment`);
        assert.ok([ids.doc1, ids.doc2, ids.doc3].includes(moment.id));
        assert.deepEqual(moment.moment, { first: T0 + 1000, last: T0 + 1240, frames: 3 });
        const shown = grouped.results.map((r) => r.id);
        assert.equal(shown.filter((id) => [ids.doc1, ids.doc2, ids.doc3].includes(id)).length, 1, `${mode}: the moment's frames are one result`);
        assert.ok(shown.includes(ids.docLater!) && shown.includes(ids.docElsewhere!), `${mode}: later and other-window frames stay apart`);
        assert.equal(grouped.results.length, 3);

        const flat = await service(FLOOR).search({ q: 'cache evicts', mode, limit: 20, offset: 0, group: false });
        assert.equal(flat.results.length, 5, `${mode}: group=false lists every frame`);
        assert.ok(flat.results.every((r) => !r.moment));
      }
    });
  });
}
