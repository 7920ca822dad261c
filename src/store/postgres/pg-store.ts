import pg from 'pg';
import { type Store, StoreOpenError, StoreUnavailableError } from '../ports.js';
import { PgActivityRepository } from './pg-activity-repository.js';
import { PgCjkIndexRepository } from './pg-cjk-index-repository.js';
import { PgClientsRepository } from './pg-clients-repository.js';
import { PgCompactionRepository } from './pg-compaction-repository.js';
import { checkDatabaseUrl, connectionErrorMessage } from './pg-connection-errors.js';
import { PgEmbeddingsRepository } from './pg-embeddings-repository.js';
import { PgFramesRepository } from './pg-frames-repository.js';
import { pgMigrations } from './migrations/index.js';
import { runPgMigrations, SchemaTooNewError } from './pg-migrations.js';
import { PgMemoryLockRepository } from './pg-memory-lock-repository.js';
import { LOCK_CHANNEL, PendingListener } from './pg-pending-listener.js';
import { isUnavailable, query, withClient } from './pg-query.js';
import { PgSearchRepository } from './pg-search-repository.js';
import { PgMaintenanceRepository } from './pg-maintenance-repository.js';
import { PgSettingsRepository } from './pg-settings-repository.js';
import { PgStorageRepository } from './pg-storage-repository.js';
import { PgTimelineRepository } from './pg-timeline-repository.js';
import { PgWordIndexRepository, type SegmentSizes } from './pg-word-index-repository.js';

export { redactDatabaseUrl } from './pg-connection-errors.js';

export interface PostgresStoreOptions {
  log?: (message: string) => void;
  poolSize?: number;
  applicationName?: string;
  /** What errors name as the URL's origin: OPENRECALL_DATABASE_URL, or a command's option. */
  setting?: string;
  /** How long a connection beyond the WARM_CONNECTIONS stays open unused (tests shorten it). */
  idleTimeoutMillis?: number;
  /** The packed word index's segment sizes (tests pack a few frames). */
  wordSegments?: SegmentSizes;
}

/**
 * Connections kept open however long they sit unused. A new connection is a new server process: its first search
 * loads the text search dictionaries and catalog caches, and takes a page fault for each shared buffer it touches
 * first. At a year of history that made a search after a pause (the pool closed its connections after 30 s)
 * ~160 ms slower: median 238 against 78 ms on kept connections. A search holds up to 3 at once.
 */
const WARM_CONNECTIONS = 4;

const INT8 = 20;
const NUMERIC = 1700;
// Counts, sums and bigint ids as JS numbers (exact below 2^53), for this store's connections only.
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8 || oid === NUMERIC ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** Opens (and migrates) the PostgreSQL store; rejects with one line naming OPENRECALL_DATABASE_URL when it cannot. */
export async function openPostgresStore(url: string, options: PostgresStoreOptions): Promise<Store> {
  const log = options.log ?? (() => {});
  try {
    checkDatabaseUrl(url);
  } catch (error) {
    throw new StoreOpenError(connectionErrorMessage(url, error, options.setting));
  }
  const connection: pg.ClientConfig = {
    connectionString: url,
    application_name: options.applicationName ?? 'openrecall',
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    // A connection cut without a reset (a cable, a VPN) is noticed in seconds, not after the system's two hours.
    keepAliveInitialDelayMillis: 10_000,
    types,
  };
  // At least 2: withExclusiveLock holds one connection while its task queries through another.
  const max = Math.max(2, options.poolSize ?? 10);
  const pool = new pg.Pool({ ...connection, max, min: Math.min(WARM_CONNECTIONS, max), idleTimeoutMillis: options.idleTimeoutMillis ?? 30_000 });
  // An idle connection the server dropped: the pool discards it and opens a new one on the next query.
  pool.on('error', (error) => log(`database connection lost: ${error.message}`));
  try {
    await runPgMigrations(pool, pgMigrations, log);
  } catch (error) {
    await pool.end().catch(() => {});
    const cause = error instanceof StoreUnavailableError ? error.cause : error;
    if (error instanceof SchemaTooNewError || !isConnectionFailure(cause)) throw error;
    throw new StoreOpenError(connectionErrorMessage(url, cause, options.setting));
  }
  const listener = new PendingListener(connection, log);
  // Its connection is made only by a process that follows the lock (`openrecall worker`).
  const lockListener = new PendingListener(connection, log, LOCK_CHANNEL);
  return {
    kind: 'postgres',
    frames: new PgFramesRepository(pool),
    search: new PgSearchRepository(pool),
    timeline: new PgTimelineRepository(pool),
    activity: new PgActivityRepository(pool),
    embeddings: new PgEmbeddingsRepository(pool),
    cjkIndex: new PgCjkIndexRepository(pool),
    storage: new PgStorageRepository(pool),
    compaction: new PgCompactionRepository(pool),
    clients: new PgClientsRepository(pool),
    settings: new PgSettingsRepository(pool),
    maintenance: new PgMaintenanceRepository(pool),
    wordIndex: new PgWordIndexRepository(pool, options.wordSegments),
    memoryLock: new PgMemoryLockRepository(pool, lockListener),
    onPendingFrames: (onPending) => listener.subscribe(onPending),
    withExclusiveLock: (name, task) => withExclusiveLock(pool, name, task),
    close: async () => {
      await listener.close();
      await lockListener.close();
      await pool.end();
    },
  };
}

/** The server could not be reached, or refused us (password, user, database, privileges): the URL is what to fix. */
function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return isUnavailable(error) || (typeof code === 'string' && (code.startsWith('28') || code === '3D000' || code === '42501'));
}

/** An advisory lock held by one session for the task: retention runs on one server at a time. */
function withExclusiveLock(pool: pg.Pool, name: string, task: () => Promise<void>): Promise<boolean> {
  return withClient(pool, async (client) => {
    const [row] = await query<{ locked: boolean }>(client, 'SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [name]);
    if (!row?.locked) return false;
    try {
      await task();
    } finally {
      await query(client, 'SELECT pg_advisory_unlock(hashtext($1))', [name]);
    }
    return true;
  });
}
