import type pg from 'pg';
import { StoreUnavailableError } from '../ports.js';

/** A pool or one checked-out client: repositories run the same SQL inside and outside transactions. */
export type Queryable = pg.Pool | pg.PoolClient | pg.Client;

const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENOENT']);
// 57P01-03: the server is shutting down or starting up; 53300: it has no connection slot left.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** True when an error means the database cannot be reached right now (as opposed to a wrong query). */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_ERRNOS.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection closed/i.test(error.message);
}

const CONNECT_ERRNOS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENOENT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** No connection could be opened, so no statement was sent (57P03: starting up; 53300: no free slot). */
function beforeConnecting(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECT_ERRNOS.has(code) || code === '57P03' || code === '53300')) return true;
  return /timeout exceeded when trying to connect/i.test((error as Error).message);
}

/** Rethrows a connection failure as StoreUnavailableError (the HTTP layer answers 503), anything else as is. */
export function translate(error: unknown): never {
  if (error instanceof StoreUnavailableError || !isUnavailable(error)) throw error;
  throw new StoreUnavailableError(`database unavailable: ${(error as Error).message}`, { cause: error, maybeCommitted: !beforeConnecting(error) });
}

/** Every statement of the PostgreSQL store goes through here. */
export async function query<T extends object = Record<string, unknown>>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  try {
    const result = await db.query(sql, params);
    return result.rows as T[];
  } catch (error) {
    translate(error);
  }
}

export async function queryCount(db: Queryable, sql: string, params: unknown[] = []): Promise<number> {
  try {
    return (await db.query(sql, params)).rowCount ?? 0;
  } catch (error) {
    translate(error);
  }
}

/** One checked-out client; a client whose connection broke is destroyed instead of returned to the pool. */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    translate(error);
  }
  let broken: Error | undefined;
  // The pool listens for errors of idle clients only: a checked-out client whose connection drops (the server
  // going away while a lock is held) emits 'error', which without a listener would end the process.
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    return await work(client);
  } catch (error) {
    if (error instanceof StoreUnavailableError || isUnavailable(error)) broken = error as Error;
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/** Runs `work` in one transaction (READ COMMITTED unless `begin` says otherwise), rolled back when it throws. */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  return withClient(pool, async (client) => {
    await query(client, begin);
    try {
      const result = await work(client);
      await query(client, 'COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  });
}
