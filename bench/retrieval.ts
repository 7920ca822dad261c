// Retrieval quality: do people find the screen they are looking for? 40 application screens rendered as images,
// uploaded to the real `openrecall server` at its defaults (tesseract.js OCR, built-in embedding model) and OCR'd
// there; then three kinds of queries per screen (exact words, paraphrases that share no word with the screen,
// half-remembered queries), each run in keyword, semantic and hybrid mode over HTTP. Reports recall@1, recall@5
// and MRR (over the top 10) per kind and mode.
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
} finally {
  await server.stop();
}
