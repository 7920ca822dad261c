import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server the tests use. `npm test` (scripts/test.mjs) installs and starts one when none answers. */
export const TEST_DATABASE_URL = process.env.OPENRECALL_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

const withoutPassword = (url: string) => url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  try {
    await client.connect();
  } catch (error) {
    // Never skip: a suite that silently passes without its database proves nothing.
    throw new Error(
      `no PostgreSQL answers at OPENRECALL_TEST_DATABASE_URL (${withoutPassword(TEST_DATABASE_URL)}): ${(error as Error).message}; npm test starts one`,
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  /** URL of a fresh, empty database of its own. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new empty database (so tests running in parallel never share tables), dropped by `drop()`. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `openrecall_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** One statement on a connection of its own: what a test reads or changes in the database directly. */
export async function queryDatabase<T extends pg.QueryResultRow = Record<string, any>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}
