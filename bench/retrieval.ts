// Retrieval quality: do people find the screen they are looking for? 40 application screens rendered as images,
// uploaded to the real `openrecall server` at its defaults (tesseract.js OCR, built-in embedding model) and OCR'd
// there; then three kinds of queries per screen (exact words, paraphrases that share no word with the screen,
// half-remembered queries), each run in keyword, semantic and hybrid mode over HTTP. Reports recall@1, recall@5
// and MRR (over the top 10) per kind and mode, and what a user can trust in the default (hybrid) mode: precision@5
// of exact-word queries, results for a word found on one screen, and the similarity figures the vector floor
// (OPENRECALL_VECTOR_FLOOR) is calibrated on.
//   node --import tsx bench/retrieval.ts [--screens 40]
// OPENRECALL_EMBEDDING_PROVIDER and other OPENRECALL_* settings in the environment are passed to the server.
import { parseArgs } from 'node:util';
import { getJson, upload, waitUntil } from '../test/helpers/api.js';
import { renderTextImage } from '../test/helpers/images.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { round } from './fixtures.js';
import { SCREENS, type RetrievalScreen } from './retrieval-corpus.js';

const { values } = parseArgs({ options: { screens: { type: 'string', default: process.env.BENCH_RETRIEVAL_SCREENS ?? String(SCREENS.length) } } });
const screens = SCREENS.slice(0, Number(values.screens));
const KINDS = ['exact', 'paraphrase', 'partial'] as const;
const MODES = ['keyword', 'semantic', 'hybrid'] as const;
const DEPTH = 10;

const wordsOf = (text: string) =>
  new Set(
    text
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter((w) => w.length > 2),
  );
/** Same word, or (for words of 4+ letters) the same first five letters: "restarting" shares "RESTARTS". */
const shares = (a: string, b: string) => a === b || (a.length >= 4 && b.length >= 4 && a.slice(0, 5) === b.slice(0, 5));

const server = await startServerProcess(tempDir('openrecall-bench-retrieval-'), {
  OPENRECALL_WORKERS: '1',
  OPENRECALL_EMBEDDING_PROVIDER: process.env.OPENRECALL_EMBEDDING_PROVIDER ?? '',
});
try {
  const status = (await getJson(`${server.api}/queue/status`)).body;
  const ids = new Map<string, number>();
  const started = performance.now();
  for (const [i, screen] of screens.entries()) {
    const image = await renderTextImage(screen.lines, { width: 1280, height: 720, fontSize: 22, seed: i + 1 });
    const { body } = await upload(server.api, { image, app: screen.app, title: screen.title, timestamp: 1_700_000_000 + i * 60 });
    ids.set(screen.key, body.task_id as number);
  }
  await waitUntil(
    async () => {
      const s = (await getJson(`${server.api}/queue/status`)).body;
      return s.queue.completed + s.queue.failed === screens.length && (s.backfill.embedding ?? 0) === 0;
    },
    { what: 'OCR and embeddings of every screen', timeoutMs: 20 * 60_000, intervalMs: 500 },
  );
  const processingSeconds = (performance.now() - started) / 1000;

  // A paraphrase must share no word with what the server read on its screen (OCR text, title, app).
  const overlaps: string[] = [];
  let ocrRecall = 0;
  for (const screen of screens) {
    const entry = (await getJson(`${server.api}/entries/${ids.get(screen.key)}`)).body;
    const seen = wordsOf(`${entry.text ?? ''} ${screen.title} ${screen.app}`);
    const shared = [...wordsOf(screen.paraphrase)].filter((w) => [...seen].some((v) => shares(v, w)));
    if (shared.length) overlaps.push(`${screen.key}: ${shared.join(', ')}`);
    const rendered = [...wordsOf(screen.lines.join(' '))];
    ocrRecall += rendered.filter((w) => wordsOf(entry.text ?? '').has(w)).length / rendered.length / screens.length;
  }

  const ranks: Record<string, Record<string, Array<number | null>>> = {};
  const semanticOn = status.semantic?.enabled === true;
  for (const kind of KINDS) {
    ranks[kind] = {};
    for (const mode of MODES) {
      if (mode !== 'keyword' && !semanticOn) continue;
      ranks[kind]![mode] = [];
      for (const screen of screens) {
        const q = (screen as RetrievalScreen)[kind];
        const { status: code, body } = await getJson(`${server.api}/search?q=${encodeURIComponent(q)}&mode=${mode}&limit=${DEPTH}`);
        if (code !== 200) throw new Error(`search "${q}" (${mode}) answered ${code}: ${JSON.stringify(body)}`);
        if (body.warning) throw new Error(`search "${q}" (${mode}) degraded: ${body.warning}`);
        const at = (body.results as Array<{ id: number }>).findIndex((r) => r.id === ids.get(screen.key));
        ranks[kind]![mode]!.push(at === -1 ? null : at + 1);
      }
    }
  }

  const trust = semanticOn ? await trustFigures(server.api, screens, ids) : undefined;

  const metrics = (list: Array<number | null>) => ({
    recall_at_1: round(list.filter((r) => r === 1).length / list.length, 3),
    recall_at_5: round(list.filter((r) => r !== null && r <= 5).length / list.length, 3),
    mrr: round(list.reduce<number>((sum, r) => sum + (r === null ? 0 : 1 / r), 0) / list.length, 3),
  });
  const table: Record<string, Record<string, ReturnType<typeof metrics>>> = {};
  for (const kind of KINDS) {
    table[kind] = {};
    for (const [mode, list] of Object.entries(ranks[kind]!)) table[kind]![mode] = metrics(list);
  }
  const misses: Record<string, string[]> = {};
  for (const kind of KINDS) {
    const hybrid = ranks[kind]!.hybrid;
    if (hybrid) misses[kind] = screens.filter((_, i) => hybrid[i] === null || hybrid[i]! > 5).map((s) => `${s.key} "${s[kind]}"`);
  }

  console.log(
    JSON.stringify(
      {
        benchmark: 'retrieval',
        screens: screens.length,
        queries: screens.length * KINDS.length,
        semantic: semanticOn ? status.semantic.model : 'off',
        ocr_word_recall: round(ocrRecall, 3),
        processing_seconds: round(processingSeconds, 1),
        paraphrases_sharing_a_word_with_their_screen: overlaps,
        results: table,
        hybrid_misses_at_5: misses,
        trust,
      },
      null,
      2,
    ),
  );
  console.log('\n| query kind | mode | recall@1 | recall@5 | MRR |\n|---|---|---|---|---|');
  for (const kind of KINDS) {
    for (const [mode, m] of Object.entries(table[kind]!))
      console.log(`| ${kind} (${screens.length}) | ${mode} | ${m.recall_at_1} | ${m.recall_at_5} | ${m.mrr} |`);
  }
  if (trust) {
    console.log('\n| hybrid | figure | goal |\n|---|---|---|');
    console.log(`| precision@5, exact-word queries | ${trust.exact_precision_at_5} | >= 0.9 |`);
    console.log(`| recall@5, paraphrases (results only) | ${trust.paraphrase_recall_at_5} | >= 0.9 |`);
    console.log(`| recall@5, paraphrases (results, then related) | ${trust.paraphrase_recall_at_5_with_related} | |`);
    console.log(`| mean results, a word on one screen (${trust.one_screen_words.length} words) | ${trust.one_screen_word_mean_results} | <= 1.5 |`);
    console.log('\nWhat a floor would give (from semantic similarities; run with OPENRECALL_VECTOR_FLOOR=-1 so that every similarity is seen):');
    console.log('| floor | paraphrase recall@5 | exact precision@5 | mean results, one-screen word |\n|---|---|---|---|');
    for (const row of trust.floor_table)
      console.log(`| ${row.floor} | ${row.paraphrase_recall_at_5} | ${row.exact_precision_at_5} | ${row.one_screen_word_mean_results} |`);
  }
} finally {
  await server.stop();
}

interface Hit {
  id: number;
  score: number;
}

async function searchIds(api: string, q: string, mode: string, limit: number): Promise<{ results: Hit[]; related: Hit[] }> {
  const { status: code, body } = await getJson(`${api}/search?q=${encodeURIComponent(q)}&mode=${mode}&limit=${limit}`);
  if (code !== 200) throw new Error(`search "${q}" (${mode}) answered ${code}: ${JSON.stringify(body)}`);
  return { results: body.results, related: body.related ?? [] };
}

/** Figures of issue 21: are hybrid results real matches, and where would a similarity floor put the line? */
async function trustFigures(api: string, list: RetrievalScreen[], ids: Map<string, number>) {
  const mean = (xs: number[]) => (xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length, 3) : 0);
  // Exact-word queries: a result is right when it is the screen, or a frame keyword search also finds.
  const precisions: number[] = [];
  const exactOthers: Array<{ matches: number; others: number[] }> = [];
  for (const screen of list) {
    const keyword = new Set((await searchIds(api, screen.exact, 'keyword', 100)).results.map((r) => r.id));
    const top = (await searchIds(api, screen.exact, 'hybrid', 5)).results;
    precisions.push(top.length ? top.filter((r) => r.id === ids.get(screen.key) || keyword.has(r.id)).length / top.length : 0);
    const semantic = await searchIds(api, screen.exact, 'semantic', 20);
    const others = [...semantic.results, ...semantic.related].filter((r) => r.id !== ids.get(screen.key) && !keyword.has(r.id)).map((r) => r.score);
    exactOthers.push({ matches: Math.max(1, keyword.size), others });
  }
  // Paraphrases: hybrid results alone, and results followed by the related frames the UI shows under them.
  const paraphrase = { results: 0, shown: 0 };
  const paraphraseSimilarity: number[] = [];
  for (const screen of list) {
    const target = ids.get(screen.key);
    const hybrid = await searchIds(api, screen.paraphrase, 'hybrid', 5);
    if (hybrid.results.slice(0, 5).some((r) => r.id === target)) paraphrase.results++;
    if ([...hybrid.results, ...hybrid.related].slice(0, 5).some((r) => r.id === target)) paraphrase.shown++;
    const found = await searchIds(api, screen.paraphrase, 'semantic', 5);
    const semantic = [...found.results, ...found.related];
    const at = semantic.findIndex((r) => r.id === target);
    paraphraseSimilarity.push(at === -1 ? -1 : semantic[at]!.score);
  }
  // A word found on one screen only (by keyword search): how many results does hybrid give for it?
  const words: Array<{ word: string; results: number; others: number[] }> = [];
  for (const screen of list) {
    for (const word of screen.exact.split(/\s+/).filter((w) => w.length >= 4)) {
      const keyword = (await searchIds(api, word, 'keyword', 2)).results;
      if (keyword.length !== 1 || keyword[0]!.id !== ids.get(screen.key)) continue;
      const hybrid = (await searchIds(api, word, 'hybrid', 20)).results;
      const found = await searchIds(api, word, 'semantic', 20);
      const semantic = [...found.results, ...found.related];
      words.push({ word, results: hybrid.length, others: semantic.filter((r) => r.id !== ids.get(screen.key)).map((r) => r.score) });
      break;
    }
  }
  const floors = Array.from({ length: 15 }, (_, i) => round(i * 0.05, 2));
  return {
    exact_precision_at_5: mean(precisions),
    paraphrase_recall_at_5: round(paraphrase.results / list.length, 3),
    paraphrase_recall_at_5_with_related: round(paraphrase.shown / list.length, 3),
    one_screen_words: words.map((w) => `${w.word}: ${w.results}`),
    one_screen_word_mean_results: mean(words.map((w) => w.results)),
    paraphrase_target_similarity: paraphraseSimilarity.map((s) => round(s, 3)),
    floor_table: floors.map((floor) => ({
      floor,
      paraphrase_recall_at_5: round(paraphraseSimilarity.filter((s) => s >= floor).length / list.length, 3),
      // Keyword matches come first; vector-only frames above the floor fill the rest of the top 5.
      exact_precision_at_5: mean(exactOthers.map((e) => Math.min(e.matches, 5) / Math.min(e.matches + e.others.filter((s) => s >= floor).length, 5))),
      one_screen_word_mean_results: mean(words.map((w) => 1 + w.others.filter((s) => s >= floor).length)),
    })),
  };
}
