import type pg from 'pg';
import { query as runQuery } from './pg-query.js';
import { cjkRuns } from '../cjk.js';
import type { KeywordSource, ParsedQuery } from '../ports.js';
import { ELLIPSIS, MARK_END, MARK_START } from '../snippet-marks.js';
import { headlineQuery, SqlParams } from './pg-search-query.js';
import { ASCII_PUNCTUATION, HEADLINE_STANDINS, restoreStandIns, translateSql, WORDS_CONFIG } from './pg-search-text.js';

/** About as long as FTS5's snippet(…, 24) of SQLite. */
const SNIPPET_WORDS = 24;
const HEADLINE_OPTIONS = `StartSel=${MARK_START}, StopSel=${MARK_END}, MaxWords=${SNIPPET_WORDS}, MinWords=12, MaxFragments=1, FragmentDelimiter=" ${ELLIPSIS} "`;
const COLUMNS = ['text', 'description', 'title', 'app'] as const;
type Column = (typeof COLUMNS)[number];
type Row = { id: string } & Record<Column, string | null> & Partial<Record<`h_${Column}`, string | null>>;

const marks = (s: string) => s.split(MARK_START).length - 1;

/**
 * Snippets with the matches between MARK_START and MARK_END. Word matches use ts_headline (it knows the
 * stemming: "meetings" marks "meeting"), in the column with the most marks. Substring, short-term and CJK
 * matches, and word matches ts_headline cannot place, are marked here in the stored text.
 */
export async function pgSnippets(pool: pg.Pool, query: ParsedQuery, candidates: Array<{ id: number; source: KeywordSource }>): Promise<Map<number, string>> {
  if (candidates.length <= SNIPPET_BATCH) return snippetBatch(pool, query, candidates);
  // ts_headline parses each frame's whole text (~0.2 ms for 300 words): a page's frames in batches on separate
  // connections are parsed by several server processes at once.
  const batches: Array<typeof candidates> = [];
  const size = Math.ceil(candidates.length / Math.ceil(candidates.length / SNIPPET_BATCH));
  for (let i = 0; i < candidates.length; i += size) batches.push(candidates.slice(i, i + size));
  const maps = await Promise.all(batches.map((batch) => snippetBatch(pool, query, batch)));
  return new Map(maps.flatMap((m) => [...m]));
}

/** Frames per snippet statement (a page of 20 is two statements). */
const SNIPPET_BATCH = 10;

async function snippetBatch(pool: pg.Pool, query: ParsedQuery, candidates: Array<{ id: number; source: KeywordSource }>): Promise<Map<number, string>> {
  if (candidates.length === 0) return new Map();
  const params = new SqlParams();
  const ids = params.add(
    candidates.map((c) => c.id),
    'int8[]',
  );
  const wordIds = candidates.filter((c) => c.source === 'words').map((c) => c.id);
  const headline = wordIds.length ? headlineQuery(query, params) : undefined;
  let headlines = '';
  if (headline) {
    const wordIdsParam = params.add(wordIds, 'int8[]');
    const options = params.add(HEADLINE_OPTIONS);
    headlines = COLUMNS.map(
      (c) =>
        `, CASE WHEN e.id = ANY(${wordIdsParam}) THEN ts_headline('${WORDS_CONFIG}', ${translateSql(`e.${c}`, ASCII_PUNCTUATION, HEADLINE_STANDINS)}, ${headline}, ${options}) END AS h_${c}`,
    ).join('');
  }
  const sql = `SELECT e.id, e.text, e.description, e.title, e.app${headlines} FROM entries e WHERE e.id = ANY(${ids})`;
  const rows = new Map((await runQuery<Row>(pool, sql, params.values)).map((r) => [Number(r.id), r]));

  const terms = query.include.map((t) => t.text);
  const cjkNeedles = terms.flatMap((t) => cjkRuns(t)).map((run) => Array.from(run).map(escapeRegExp).join('\\s?'));
  const snippets = new Map<number, string>();
  for (const { id, source } of candidates) {
    const row = rows.get(id);
    if (!row) continue;
    const tries: Array<() => string | undefined> = [];
    if (source === 'words') tries.push(() => bestHeadline(row));
    if (source === 'cjk') tries.push(() => markText(row.text, cjkNeedles));
    if (source === 'substring' || source === 'short') tries.push(() => bestMarked([row.description, row.title, row.app], terms));
    tries.push(() => bestMarked([row.text, row.description, row.title, row.app], terms));
    let snippet: string | undefined;
    for (const attempt of tries) if ((snippet = attempt()) !== undefined) break;
    snippets.set(id, snippet ?? excerpt(row.description ?? row.text ?? row.title ?? row.app ?? ''));
  }
  return snippets;
}

function bestHeadline(row: Row): string | undefined {
  let best: { snippet: string; marks: number } | undefined;
  for (const column of COLUMNS) {
    const marked = row[`h_${column}`];
    if (!marked?.includes(MARK_START)) continue;
    const snippet = withEllipses(restoreStandIns(marked), row[column] ?? '');
    if (!best || marks(snippet) > best.marks) best = { snippet, marks: marks(snippet) };
  }
  return best?.snippet;
}

/**
 * ts_headline returns a bare fragment without the punctuation at its edges (`<` of `<script>`): put that
 * back, and show that the text was cut, as FTS5 does.
 */
function withEllipses(fragment: string, whole: string): string {
  const plain = fragment.replaceAll(MARK_START, '').replaceAll(MARK_END, '').trim();
  const at = whole.indexOf(plain);
  if (at < 0 || plain.length === 0) return fragment.trim();
  const before = whole.slice(0, at);
  const after = whole.slice(at + plain.length);
  const lead = /\S*$/u.exec(before)![0];
  const tail = /^\S*/u.exec(after)![0];
  const cutBefore = /[\p{L}\p{N}]/u.test(before.slice(0, before.length - lead.length));
  const cutAfter = /[\p{L}\p{N}]/u.test(after.slice(tail.length));
  return (cutBefore ? `${ELLIPSIS} ` : '') + lead + fragment.trim() + tail + (cutAfter ? ` ${ELLIPSIS}` : '');
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function bestMarked(texts: Array<string | null>, terms: string[]): string | undefined {
  const needles = terms.filter(Boolean).map(escapeRegExp);
  let best: { snippet: string; marks: number } | undefined;
  for (const text of texts) {
    const snippet = markText(text, needles);
    if (snippet !== undefined && (!best || marks(snippet) > best.marks)) best = { snippet, marks: marks(snippet) };
  }
  return best?.snippet;
}

/** Marks every match of the needles (regular expressions, case-insensitive) in a window of words around the first. */
function markText(text: string | null, needles: string[]): string | undefined {
  if (!text || needles.length === 0) return undefined;
  const pattern = new RegExp(needles.join('|'), 'giu');
  const first = text.search(pattern);
  if (first < 0) return undefined;
  const words = text.split(/\s+/u).filter(Boolean);
  const before = text.slice(0, first).split(/\s+/u).filter(Boolean).length - (/\S$/u.test(text.slice(0, first)) ? 1 : 0);
  const start = Math.max(0, before - Math.floor(SNIPPET_WORDS / 3));
  const window = words.slice(start, start + SNIPPET_WORDS).join(' ');
  const marked = window.replace(pattern, (m) => (m ? `${MARK_START}${m}${MARK_END}` : m));
  if (!marked.includes(MARK_START)) return undefined;
  return (start > 0 ? `${ELLIPSIS} ` : '') + marked + (start + SNIPPET_WORDS < words.length ? ` ${ELLIPSIS}` : '');
}

function excerpt(text: string): string {
  const words = text.split(/\s+/u).filter(Boolean);
  return words.slice(0, SNIPPET_WORDS).join(' ') + (words.length > SNIPPET_WORDS ? ` ${ELLIPSIS}` : '');
}
