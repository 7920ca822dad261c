import { parseArgs } from 'node:util';
import { snippetText } from '../api/snippet-text.js';
import { ApiClient } from '../api-client/client.js';
import { UsageError } from './usage-error.js';

const stripTags = (html: string) => snippetText(html, '\x1b[1m', '\x1b[22m');

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));

/** `openrecall search "<query>" [--app A] [--window W] [--since T] [--until T] [--mode M] [--limit N] [--json]` */
export async function searchCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        app: { type: 'string' },
        window: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        mode: { type: 'string' },
        sort: { type: 'string' },
        limit: { type: 'string', default: '20' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message}\nusage: openrecall search "<query>" [--app A] [--window W] [--since T] [--until T] [--mode keyword|semantic|hybrid] [--limit N] [--json]`,
    );
  }
  const { values, positionals } = parsed;
  const body = await ApiClient.fromEnv().search({
    q: positionals.join(' '),
    limit: values.limit!,
    app: values.app,
    window: values.window,
    start: values.since,
    end: values.until,
    mode: values.mode,
    sort: values.sort,
  });
  if (values.json) {
    console.log(JSON.stringify(body, null, 2));
    return 0;
  }
  if (body.warning) console.error(`warning: ${body.warning}`);
  if (body.results.length === 0) {
    console.log('no matching frames');
    return 0;
  }
  const color = process.stdout.isTTY;
  console.log(`${'ID'.padStart(7)}  ${'TIME'.padEnd(19)}  ${'APP'.padEnd(14)}  ${'WINDOW'.padEnd(28)}  MATCH`);
  for (const hit of body.results) {
    const time = new Date(hit.timestamp * 1000).toLocaleString('sv-SE').slice(0, 19);
    const snippet = stripTags(hit.snippet).replace(/\s+/g, ' ');
    console.log(
      `${String(hit.id).padStart(7)}  ${time}  ${cut(hit.app ?? '', 14)}  ${cut(hit.title ?? '', 28)}  ${color ? snippet : snippet.replace(/\x1b\[\d+m/g, '')}`,
    );
  }
  console.log(`${body.results.length} of ${body.total}${body.total >= 1_000 ? '+' : ''} frame(s), ${body.mode} search`);
  return 0;
}
