/**
 * Text normalisation shared by the search index (migration 2) and the queries built against it. FTS5's
 * unicode61 tokenizer splits at every punctuation mark; PostgreSQL's parser instead keeps e-mail addresses,
 * URLs, file names, hyphenated words and version numbers as single tokens. ASCII punctuation therefore
 * becomes a space before parsing, so `2027.xlsx` is the two words a user types.
 */
export const ASCII_PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** The text search configuration: English stemming (Snowball), accents removed, no stop words (like FTS5 porter). */
export const WORDS_CONFIG = 'openrecall_words';

/**
 * ts_headline drops what its parser takes for HTML tags and entities (`<script>`), but a snippet must show
 * the text as it was. Punctuation is swapped for private-use characters (separators to the parser, like the
 * spaces of the index) for the headline, and swapped back afterwards.
 */
export const HEADLINE_STANDINS = Array.from(ASCII_PUNCTUATION, (_, i) => String.fromCharCode(0xe000 + i)).join('');

const fromStandIn = new Map(Array.from(HEADLINE_STANDINS, (c, i) => [c, ASCII_PUNCTUATION[i]!]));
export const restoreStandIns = (text: string) => text.replace(/[\ue000-\ue01f]/g, (c) => fromStandIn.get(c) ?? c);

/** SQL string literal. Only for the constants above: user input is always a bound parameter. */
export const sqlLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * SQL for `translate(expr, from, to)` with one-character replacements, as nested replace() calls: the same
 * result (no replacement is itself replaced) about ten times faster, as translate() compares every character
 * of the text with every character of `from` (0.4 ms for 2 kB of OCR text), replace() searches with memcmp.
 */
export function translateSql(expr: string, from: string, to: string): string {
  const source = Array.from(from);
  const target = Array.from(to);
  if (source.length !== target.length || target.some((c) => source.includes(c)))
    throw new Error('translateSql: one replacement per character, none replaced again');
  return source.reduce((sql, c, i) => `replace(${sql}, ${sqlLiteral(c)}, ${sqlLiteral(target[i]!)})`, expr);
}
