/**
 * Strings a user might type (or paste) into the search box that would break a naive FTS5 query: operators,
 * unbalanced quotes and parentheses, column filters, special characters, scripts, emoji, huge inputs.
 */
export function hostileQueries(): string[] {
  const atoms = [
    '"',
    '""',
    '"""',
    "'",
    '(',
    ')',
    '()',
    ')(',
    '*',
    '**',
    '-',
    '--',
    '+',
    '^',
    ':',
    '::',
    '{',
    '}',
    '[',
    ']',
    '\\',
    '/',
    '%',
    '_',
    '~',
    '`',
    '|',
    '&',
    ';',
    '?',
    '!',
    '@',
    '#',
    '$',
    '=',
    '<',
    '>',
    ',',
    '.',
    'AND',
    'OR',
    'NOT',
    'NEAR',
    'NEAR(',
    'NEAR(a b)',
    'NEAR(a b, 3)',
    'and',
    'or',
    'not',
    'MATCH',
    'rank',
    'bm25',
    'rowid',
    'text:',
    'title:foo',
    'app : bar',
    '{text title}: x',
    '-text:foo',
    'entries_fts',
    "'; DROP TABLE entries; --",
    "1' OR '1'='1",
    '" OR 1=1 --',
    '🙂',
    '👍🏽',
    '🏳️‍🌈',
    '设计',
    '系统设计文档',
    'עברית',
    'مرحبا',
    'Ελληνικά',
    'ﬁ ligature',
    'e\u0301',
    'İstanbul',
    'ß',
    '\u200b',
    '\u202e',
    '\ufeff',
    'null',
    'undefined',
    'NaN',
    '0',
    '-1',
    '1e309',
    'true',
  ];
  const queries = new Set<string>(atoms);
  for (const a of atoms.slice(0, 40)) {
    queries.add(`budget ${a}`);
    queries.add(`${a}budget${a}`);
    queries.add(`"budget ${a}`);
  }
  const extra = [
    'budget AND',
    'AND budget',
    'budget OR OR meeting',
    'NOT budget',
    'budget NOT',
    '(budget',
    'budget)',
    '((((budget',
    '"budget',
    'budget"',
    '-',
    '- -',
    '-budget',
    '--budget',
    '-"',
    '-"budget',
    '*budget',
    'budget**',
    'bud*get',
    'b*',
    '*',
    '"*"',
    '"budget"*',
    'NEAR(budget',
    'NEAR(budget meeting, x)',
    'budget:',
    ':budget',
    'budget^',
    '^budget',
    'budget + meeting',
    'text:budget',
    '"" AND ""',
    '"a" NEAR/5 "b"',
    'a AND (b OR c) NOT d',
    '\u0000',
    'a\u0000b',
    'budget\u0000meeting',
    '"a\u0000b"',
    '\u0001budget\u0002',
    'budget\nmeeting',
    '\t',
    ' ',
    '   ',
    '\r\n',
    '\u0007',
    'x'.repeat(10_000),
    'budget '.repeat(1500),
    '"'.repeat(5000),
    '('.repeat(3000),
    '🙂'.repeat(2000),
    '设'.repeat(3000),
    '-x '.repeat(2000),
    'a*'.repeat(2500),
    'NEAR('.repeat(1000),
  ];
  for (const q of extra) queries.add(q);
  return [...queries];
}

/**
 * Values for any query or path parameter, already percent-encoded for the URL: NUL and other control
 * characters, lone surrogates (raw UTF-8 of U+D800, and invalid percent-encoding), numbers past double range,
 * signs, huge and empty values, JSON-looking text.
 */
export function hostileParameterValues(): string[] {
  const text = [
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '"a\u0000b"',
    '\u0000\u0000',
    '\u0001budget\u0002',
    '\u0007',
    '\u001b[31m',
    '\u007f',
    '\u0085',
    '\t',
    '\n',
    '\r\n',
    '\u2028',
    '\ufeff',
    '\u202e',
    '\u200b',
    '1e309',
    '-1e309',
    '1e-309',
    '1e308',
    'NaN',
    'Infinity',
    '-Infinity',
    '-1',
    '-0',
    '0',
    '1.5',
    '0x10',
    '9007199254740993',
    'true',
    'null',
    'undefined',
    '[]',
    '{}',
    '["a"]',
    "'; DROP TABLE entries; --",
    '"',
    '*',
    'NEAR(',
    'x'.repeat(5000),
    '"'.repeat(2000),
    '🙂',
    '设计',
  ];
  const raw = ['%ED%A0%80', 'a%ED%A0%80b', '%ED%B0%80', '%C3%28', '%FF%FE', '%', '%zz', 'a%00b', '%00', '%C0%80', '%F4%90%80%80'];
  return [...text.map(encodeURIComponent), ...raw];
}

interface OpenApiParameter {
  in: string;
  name: string;
}

export interface ParameterCase {
  method: string;
  /** Path and query, ready to append to the server's origin. */
  url: string;
  label: string;
}

/**
 * One request per hostile value in each query and path parameter of each operation in the OpenAPI document,
 * plus a repeated parameter: a route added later is covered without editing this list. Other path parameters
 * get `validId`; other query parameters are left out.
 */
export function hostileParameterCases(
  openapi: { paths: Record<string, Record<string, { parameters?: OpenApiParameter[] }>> },
  validId: number,
): ParameterCase[] {
  const cases: ParameterCase[] = [];
  for (const [template, operations] of Object.entries(openapi.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const parameters = (operation.parameters ?? []).filter((p) => p.in === 'query' || p.in === 'path');
      const pathWith = (name?: string, value?: string) => template.replace(/\{(\w+)\}/g, (_m, p: string) => (p === name ? value! : String(validId)));
      for (const parameter of parameters) {
        for (const value of hostileParameterValues()) {
          const url = parameter.in === 'path' ? pathWith(parameter.name, value) : `${pathWith()}?${parameter.name}=${value}`;
          cases.push({
            method: method.toUpperCase(),
            url,
            label: `${method.toUpperCase()} ${template} ${parameter.in}:${parameter.name}=${value.slice(0, 40)}`,
          });
        }
        if (parameter.in === 'query') {
          cases.push({
            method: method.toUpperCase(),
            url: `${pathWith()}?${parameter.name}=1&${parameter.name}=2`,
            label: `${template} repeated ${parameter.name}`,
          });
        }
      }
    }
  }
  return cases;
}
