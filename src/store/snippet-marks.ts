/**
 * FTS5's snippet() marks matches with markers of our choosing. Control characters that cannot occur in
 * stored text are used, the rest is HTML-escaped, and only then do the markers become <mark> tags
 * (search/highlight.ts). They live here, beside the SQL that asks for them.
 */
export const MARK_START = '\u0001';
export const MARK_END = '\u0002';
export const ELLIPSIS = '…';
