import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { parseQuery } from '../../src/search/query-parser.js';
import type { Store } from '../../src/store/ports.js';
import { openPostgresStore } from '../../src/store/postgres/pg-store.js';
import { waitUntil } from '../helpers/api.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const APP = 'openrecall-pool-test';
// Long enough that a loaded machine still counts the eight connections before any of them idles out.
const IDLE_MS = 1_000;

describe('PostgreSQL connections', () => {
  let database: TestDatabase;
  let store: Store;
  let admin: pg.Client;
  before(async () => {
    database = await createTestDatabase();
    store = await openPostgresStore(database.url, { applicationName: APP, idleTimeoutMillis: IDLE_MS });
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
  });
  after(async () => {
    await admin?.end();
    await store?.close();
    await database?.drop();
  });

  const backends = async () =>
    (await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid`, [APP])).rows.map((r) => r.pid);
  const searches = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => store.search.keyword(parseQuery(`word${i}`), {}, 'relevance', 20)));

  it('keeps four connections open while idle, so a search after a pause does not start new server processes', async () => {
    await searches(8);
    assert.ok((await backends()).length > 4, 'eight searches at once use more than four connections');
    await waitUntil(async () => (await backends()).length <= 4, { what: 'the idle connections to close', timeoutMs: IDLE_MS * 10, intervalMs: 200 });
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 1.5));
    const kept = await backends();
    assert.equal(kept.length, 4, 'the connections beyond four close when idle, four stay');
    await searches(1);
    assert.deepEqual(await backends(), kept, 'the next search runs on the kept connections');
  });
});
