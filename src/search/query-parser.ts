/**
 * The search box language: plain words (all must match), "quoted phrases", -word or -"phrase" to exclude,
 * prefix*. Everything else a user may type (FTS operators, parentheses, colons, stray quotes, emoji) is
 * treated as text: the parser never fails and never lets FTS5 syntax through.
 */
export type TermKind = 'word' | 'phrase' | 'prefix';

export interface Term {
  kind: TermKind;
  /** The term's text as typed (without quotes, minus sign or star). */
  text: string;
}

export interface ParsedQuery {
  include: Term[];
  exclude: Term[];
}

/** Queries longer than this are cut: nobody remembers 100 words of a screen. */
const MAX_QUERY_CHARS = 1000;
const MAX_TERMS = 32;

export function parseQuery(input: string): ParsedQuery {
  // Control characters and lone surrogates separate words: FTS5 reads a NUL inside a string literal as its end.
  const query = input
    .replace(/[\p{Cc}\p{Cs}]/gu, ' ')
    .normalize('NFC')
    .slice(0, MAX_QUERY_CHARS);
  const include: Term[] = [];
  const exclude: Term[] = [];
  const pattern = /(-?)"([^"]*)"?|(\S+)/gu;
  for (const match of query.matchAll(pattern)) {
    if (include.length + exclude.length >= MAX_TERMS) break;
    let term: Term | undefined;
    let negated = false;
    if (match[2] !== undefined) {
      negated = match[1] === '-';
      const text = collapse(match[2]);
      if (text) term = { kind: hasSeparator(text) ? 'phrase' : 'word', text };
    } else {
      let raw = match[3]!;
      if (raw.length > 1 && raw.startsWith('-')) {
        negated = true;
        raw = raw.slice(1);
      }
      // A prefix needs two characters: `a*` would expand to a large part of the vocabulary.
      const prefix = raw.length > 2 && raw.endsWith('*') && !raw.endsWith('**');
      const text = collapse(raw.replace(/\*+$/u, ''));
      if (hasWordCharacter(text)) term = { kind: prefix ? 'prefix' : 'word', text };
    }
    if (!term || !hasWordCharacter(term.text)) continue;
    (negated ? exclude : include).push(term);
  }
  return { include, exclude };
}

const collapse = (s: string) => s.replace(/\s+/gu, ' ').trim();
const hasSeparator = (s: string) => /[^\p{L}\p{N}]/u.test(s);
export const hasWordCharacter = (s: string) => /[\p{L}\p{N}]/u.test(s);

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
