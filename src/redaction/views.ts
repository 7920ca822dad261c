import type { TextViews } from './types.js';

/** Characters OCR reads for one another on screen fonts. */
const CONFUSABLE: Record<string, string> = {
  I: 'Il1|',
  l: 'Il1|',
  '1': 'Il1|',
  i: 'i1l',
  O: 'O0o',
  o: 'O0o',
  '0': 'O0o',
  S: 'S5s',
  s: 'S5s',
  '5': 'S5s',
  B: 'B8',
  '8': 'B8',
  Z: 'Z2',
  '2': 'Z2',
  G: 'G6',
  '6': 'G6',
  _: '_-',
  '-': '-~_',
};

const escapeChar = (c: string) => c.replace(/[\\^$.*+?()[\]{}|\-/]/g, '\\$&');

/** A regex source matching `word` however OCR confused its letters, case-insensitively for letters. */
export function confusableSource(word: string): string {
  let out = '';
  for (const c of word) {
    if (c === ' ') {
      out += '[\\s_-]?';
      continue;
    }
    const alternatives = new Set([c, ...(CONFUSABLE[c] ?? ''), ...(CONFUSABLE[c.toLowerCase()] ?? ''), ...(CONFUSABLE[c.toUpperCase()] ?? '')]);
    out += alternatives.size === 1 ? escapeChar(c) : `[${[...alternatives].map(escapeChar).join('')}]`;
  }
  return out;
}

/** Prefixes of token formats the credential rules anchor on; OCR must not hide a key by misreading them. */
export const TOKEN_PREFIXES = [
  'AKIA',
  'ASIA',
  'AGPA',
  'AIDA',
  'AROA',
  'ghp_',
  'gho_',
  'ghu_',
  'ghs_',
  'ghr_',
  'github_pat_',
  'glpat-',
  'gldt-',
  'xoxb-',
  'xoxp-',
  'xoxa-',
  'xoxr-',
  'xoxs-',
  'xapp-',
  'sk-proj-',
  'sk-ant-',
  'sk-',
  'sk_live_',
  'rk_live_',
  'pk_live_',
  'sk_test_',
  'SG.',
  'npm_',
  'AIza',
  'eyJ',
].sort((a, b) => b.length - a.length); // the longest first: "sk_live_" before "sk-", which OCR confuses with it

const prefixPattern = new RegExp(`(?<![A-Za-z0-9_])(?:${TOKEN_PREFIXES.map((p) => `(${confusableSource(p)})`).join('|')})`, 'g');

/** Fixes the prefixes of token formats that OCR confused ("AKlA…" → "AKIA…"), keeping every offset. */
export function fixTokenPrefixes(text: string): string {
  // OCR drops the underscore that ends a prefix ("ghp MZYx…"): a space there, before a long token, was one.
  text = text.replace(/(?<![A-Za-z0-9_])(gh[pousr]|npm|github_pat) (?=\S{12,})/g, '$1_');
  text = text.replace(/(?<![A-Za-z0-9_])([srp]k) (live|test) (?=\S{12,})/g, '$1_$2_');
  return text.replace(prefixPattern, (match, ...groups: unknown[]) => {
    const index = groups.findIndex((g) => typeof g === 'string');
    const canonical = TOKEN_PREFIXES[index];
    return canonical && canonical.length === match.length ? canonical : match;
  });
}

/** A piece of a token OCR split: the characters of generated tokens, with digits or mixed case in it. */
const PIECE = /^[A-Za-z0-9_+/=.-]+$/;
const generated = (piece: string) =>
  PIECE.test(piece) && piece.length >= 3 && (/\d/.test(piece) || /[a-z][A-Z]|[A-Z][a-z]+[A-Z]/.test(piece) || /[_+/=-]/.test(piece));
const startsToken = new RegExp(`^(?:${TOKEN_PREFIXES.map((p) => p.replace(/[.]/g, '\\.')).join('|')})`);

export function textViews(text: string): TextViews {
  const prefixFixed = fixTokenPrefixes(text);
  let joined = '';
  const joinedToOriginal: number[] = [];
  // A space between two generated-looking pieces on one line is OCR's, not the screen's: drop it.
  const gaps = new Set<number>();
  for (const m of prefixFixed.matchAll(/(\S+)([ \t])(?=(\S+))/g)) {
    // Never glue a word onto the start of a known token: its rule needs the token to stand alone.
    if (generated(m[1]!) && generated(m[3]!) && !startsToken.test(m[3]!)) gaps.add(m.index + m[1]!.length);
  }
  for (let i = 0; i < prefixFixed.length; i++) {
    if (gaps.has(i)) continue;
    joined += prefixFixed[i]!;
    joinedToOriginal.push(i);
  }
  joinedToOriginal.push(prefixFixed.length);
  return { prefixFixed, joined, joinedToOriginal };
}

/** Maps a [start, end) range of the joined view back to the original text. */
export function fromJoined(views: TextViews, start: number, end: number): { start: number; end: number } {
  return { start: views.joinedToOriginal[start]!, end: views.joinedToOriginal[end - 1]! + 1 };
}
