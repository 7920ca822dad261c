/** The FTS5 MATCH expressions of a parsed query (search/query-parser.ts). Always bound as parameters. */
import type { ParsedQuery } from '../ports.js';

const hasWordCharacter = (s: string) => /[\p{L}\p{N}]/u.test(s);

/** An FTS5 string literal: double quotes around, inner quotes doubled. Tokenised by the table's tokenizer. */
export const ftsString = (text: string) => `"${text.replace(/"/g, '""')}"`;

/**
 * MATCH expression for the word index (porter stemming): each term is a quoted string, so its words must
 * appear in order; `prefix*` keeps its star. Undefined when nothing positive is left to match.
 */
export function wordIndexExpression(query: ParsedQuery): string | undefined {
  const terms = query.include.filter((t) => hasWordCharacter(t.text));
  if (terms.length === 0) return undefined;
  const positive = terms.map((t) => (t.kind === 'prefix' ? `${ftsString(t.text)}*` : ftsString(t.text))).join(' AND ');
  const negative = query.exclude.map((t) => ` NOT ${ftsString(t.text)}`).join('');
  return `(${positive})${negative}`;
}

/**
 * MATCH expression for the trigram index (substrings, CJK): every term of at least three characters as a
 * substring. Shorter terms cannot use trigrams; they are returned separately for a LIKE scan.
 */
export function substringTerms(query: ParsedQuery): { expression?: string; short: string[] } {
  const long: string[] = [];
  const short: string[] = [];
  for (const term of query.include) (Array.from(term.text).length >= 3 ? long : short).push(term.text);
  const negative = query.exclude
    .filter((t) => Array.from(t.text).length >= 3)
    .map((t) => ` NOT ${ftsString(t.text)}`)
    .join('');
  return { expression: long.length ? `(${long.map(ftsString).join(' AND ')})${negative}` : undefined, short };
}

/** An FTS5 expression matching any excluded term, for queries that only exclude. */
export function exclusionExpression(query: ParsedQuery): string | undefined {
  return query.exclude.length ? query.exclude.map((t) => ftsString(t.text)).join(' OR ') : undefined;
}
