/**
 * The search box language: plain words (all must match), "quoted phrases", -word or -"phrase" to exclude,
 * prefix*. Everything else a user may type (FTS operators, parentheses, colons, stray quotes, emoji) is
 * treated as text: the parser never fails and never lets FTS5 syntax through.
 */
import type { ParsedQuery, Term } from '../store/ports.js';

export type { ParsedQuery, Term, TermKind } from '../store/ports.js';

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
