/**
 * Strings a user might type (or paste) into the search box that would break a naive FTS5 query: operators,
 * unbalanced quotes and parentheses, column filters, special characters, scripts, emoji, huge inputs.
 */
export function hostileQueries(): string[] {
  const atoms = [
    '"', '""', '"""', "'", '(', ')', '()', ')(', '*', '**', '-', '--', '+', '^', ':', '::', '{', '}', '[', ']', '\\', '/', '%', '_', '~', '`', '|', '&', ';', '?', '!', '@', '#', '$', '=', '<', '>', ',', '.',
    'AND', 'OR', 'NOT', 'NEAR', 'NEAR(', 'NEAR(a b)', 'NEAR(a b, 3)', 'and', 'or', 'not', 'MATCH', 'rank', 'bm25', 'rowid',
    'text:', 'title:foo', 'app : bar', '{text title}: x', '-text:foo', 'entries_fts', "'; DROP TABLE entries; --", "1' OR '1'='1", '" OR 1=1 --',
    '🙂', '👍🏽', '🏳️‍🌈', '设计', '系统设计文档', 'עברית', 'مرحبا', 'Ελληνικά', 'ﬁ ligature', 'e\u0301', 'İstanbul', 'ß', '\u200b', '\u202e', '\ufeff',
    'null', 'undefined', 'NaN', '0', '-1', '1e309', 'true',
  ];
  const queries = new Set<string>(atoms);
  for (const a of atoms.slice(0, 40)) {
    queries.add(`budget ${a}`);
    queries.add(`${a}budget${a}`);
    queries.add(`"budget ${a}`);
  }
  const extra = [
    'budget AND', 'AND budget', 'budget OR OR meeting', 'NOT budget', 'budget NOT', '(budget', 'budget)', '((((budget', '"budget', 'budget"',
    '-', '- -', '-budget', '--budget', '-"', '-"budget', '*budget', 'budget**', 'bud*get', 'b*', '*', '"*"', '"budget"*', 'NEAR(budget', 'NEAR(budget meeting, x)',
    'budget:', ':budget', 'budget^', '^budget', 'budget + meeting', 'text:budget', '"" AND ""', '"a" NEAR/5 "b"', 'a AND (b OR c) NOT d',
    '\u0000', '\u0001budget\u0002', 'budget\nmeeting', '\t', ' ', '   ', '\r\n', '\u0007', 'x'.repeat(10_000), 'budget '.repeat(1500), '"'.repeat(5000),
    '('.repeat(3000), '🙂'.repeat(2000), '设'.repeat(3000), '-x '.repeat(2000), 'a*'.repeat(2500), 'NEAR('.repeat(1000),
  ];
  for (const q of extra) queries.add(q);
  return [...queries];
}
