import { cjkRuns } from '../cjk.js';
import type { ParsedQuery, SearchFilters, Term } from '../ports.js';
import { ASCII_PUNCTUATION, WORDS_CONFIG } from './pg-search-text.js';

/**
 * SQL fragments of keyword search, built from the parsed query. User text only ever travels as a bound
 * parameter: into phraseto_tsquery (which reads it as plain words), or into to_tsquery as lexemes this file
 * quotes itself after removing every character the tsquery syntax could read as an operator.
 */
export class SqlParams {
  readonly values: unknown[] = [];
  /** A typed placeholder: an unused parameter (a count ignores the score's) still has a type. */
  add(value: unknown, type: 'text' | 'float8' | 'int8' | 'int8[]' = 'text'): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

/** Control characters and lone surrogates cannot travel to PostgreSQL (NUL is refused outright). */
export const clean = (text: string) => text.replace(/[\p{Cc}\p{Cs}]/gu, ' ');

/** ts_rank_cd weights of {D, C, B, A}: app 0.4, title 0.6, description 0.8, OCR text 1.0 (SQLite's bm25 weights). */
export const WEIGHTS = `'{0.4, 0.6, 0.8, 1.0}'::float4[]`;

const PUNCTUATION = new RegExp(`[${ASCII_PUNCTUATION.replace(/[\\\]^-]/g, '\\$&')}]`, 'g');
const hasWordCharacter = (s: string) => /[\p{L}\p{N}]/u.test(s);
const quoteLexeme = (word: string) => `'${word.replaceAll("'", "''").replaceAll('\\', '\\\\')}'`;

/** One term as a tsquery expression: its words in order (a phrase), the last one a prefix for `prefix*`. */
function termQuery(term: Term, params: SqlParams): string {
  if (term.kind !== 'prefix') return `phraseto_tsquery('${WORDS_CONFIG}', openrecall_search_text(${params.add(clean(term.text))}))`;
  const words = clean(term.text).replace(PUNCTUATION, ' ').split(/\s+/u).filter(hasWordCharacter);
  if (words.length === 0) return `''::tsquery`;
  return `to_tsquery('${WORDS_CONFIG}', ${params.add(`${words.map(quoteLexeme).join(' <-> ')}:*`)})`;
}

/**
 * A condition "this row's words match every included term and no excluded one". A term PostgreSQL finds no
 * word in (only symbols to its parser) matches nothing, as an empty FTS5 phrase does; those checks fold to
 * constants when the statement is planned. Exclusions, as in SQLite, are exact phrases (a prefix star is ignored).
 */
export function wordsMatch(query: Pick<ParsedQuery, 'include' | 'exclude'>, params: SqlParams, alias = 'e'): { sql: string; tsquery: string } | undefined {
  const include = query.include.filter((t) => hasWordCharacter(t.text)).map((t) => termQuery(t, params));
  if (include.length === 0) return undefined;
  const exclude = query.exclude.map((t) => `!!${termQuery({ kind: 'phrase', text: t.text }, params)}`);
  const tsquery = `(${[...include, ...exclude].join(' && ')})`;
  const nonEmpty = include.map((q) => `numnode(${q}) > 0`).join(' AND ');
  return { sql: `(${nonEmpty} AND ${alias}.search_words @@ ${tsquery})`, tsquery };
}

/** A condition "this row's words match any of these terms" (for exclusions), or undefined for none. */
export function anyWordMatch(terms: Term[], params: SqlParams, alias = 'e'): string | undefined {
  if (terms.length === 0) return undefined;
  const tsquery = terms.map((t) => termQuery({ kind: 'phrase', text: t.text }, params)).join(' || ');
  return `${alias}.search_words @@ (${tsquery})`;
}

/**
 * "The frame `e` does not match this word condition" (written for alias `x`) as an anti-join, so that the
 * planner can take the matches from the GIN index instead of reading every scanned frame's words.
 */
export const noWordMatch = (condition: string) => `NOT EXISTS (SELECT 1 FROM entries x WHERE x.id = e.id AND ${condition})`;

/** The include terms combined with OR, for ts_headline to mark every one that occurs in a column. */
export function headlineQuery(query: ParsedQuery, params: SqlParams): string | undefined {
  const include = query.include.filter((t) => hasWordCharacter(t.text)).map((t) => termQuery(t, params));
  return include.length ? `(${include.join(' || ')})` : undefined;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
export const likePattern = (s: string) => `%${escapeLike(clean(s))}%`;

/** A frame's short fields joined (migration 8), which one trigram index covers. */
const SHORT_TEXT = 'openrecall_short_text(e.title, e.app, e.description)';

/**
 * "Some short field (title, app, description) contains this text", case-insensitively: the fields joined a line apart,
 * which no term can span (clean() turns line breaks into spaces), so that several terms use one trigram index scan.
 */
export function substringMatch(text: string, params: SqlParams): string {
  return `${SHORT_TEXT} ILIKE ${params.add(likePattern(text))}`;
}

/** Terms of at least three characters can use trigrams; shorter ones are a scan (as SQLite's LIKE). */
export const isLongTerm = (text: string) => Array.from(text).length >= 3;

/**
 * The bigram query (tsquery over `cjk_grams`) for the CJK parts of the terms, all required: a word of two or
 * more characters is the phrase of its bigrams, a single character the prefix of a bigram. Undefined when
 * no term has CJK characters. The lexemes are CJK characters only, so quoting them is safe.
 */
export function cjkTsquery(terms: string[]): string | undefined {
  const parts: string[] = [];
  for (const term of terms) {
    for (const run of cjkRuns(clean(term))) {
      const chars = Array.from(run.replace(/\s+/gu, ''));
      if (chars.length === 1) parts.push(`${quoteLexeme(chars[0]!)}:*`);
      else
        parts.push(
          chars
            .slice(0, -1)
            .map((c, i) => quoteLexeme(c + chars[i + 1]))
            .join(' <-> '),
        );
    }
  }
  return parts.length ? parts.map((p) => `(${p})`).join(' & ') : undefined;
}

export const CJK_VECTOR = `to_tsvector('simple'::regconfig, e.cjk_grams)`;

/** The filters as a condition on `e` (entries). Status defaults to COMPLETED. */
export function filterSql(filters: SearchFilters, params: SqlParams): string {
  const clauses = [`e.status = ${params.add(filters.status ?? 'COMPLETED')}`, ...appAndTimeClauses(filters, params)];
  if (filters.window) clauses.push(`e.title ILIKE ${params.add(likePattern(filters.window))}`);
  if (filters.url) clauses.push(`e.browser_url ILIKE ${params.add(likePattern(filters.url))}`);
  return clauses.join(' AND ');
}

/** The app and time filters as conditions on `e` (what the packed word index can filter by, too). */
export function appAndTimeClauses(filters: Pick<SearchFilters, 'start' | 'end' | 'app'>, params: SqlParams): string[] {
  const clauses: string[] = [];
  if (filters.start !== undefined) clauses.push(`e.timestamp >= ${params.add(filters.start, 'float8')}`);
  if (filters.end !== undefined) clauses.push(`e.timestamp <= ${params.add(filters.end, 'float8')}`);
  if (filters.app) clauses.push(`lower(e.app) = lower(${params.add(clean(filters.app))})`);
  return clauses;
}
