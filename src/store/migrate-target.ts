import type Database from 'better-sqlite3-multiple-ciphers';
import pg from 'pg';
import { StoreOpenError } from './ports.js';
import { redactDatabaseUrl } from './postgres/pg-connection-errors.js';
import { SchemaTooNewError } from './postgres/pg-migrations.js';
import { openPostgresStore } from './postgres/pg-store.js';

/** The copy will not (or cannot) go ahead: one line for the user, nothing was written. */
export class MigrateRefusedError extends Error {}

const TARGET_OPTION = '--to';

/**
 * Creates or upgrades the PostgreSQL schema (which also checks the URL), then connects for the copy. Connection
 * errors name --to, the option the user wrote, not the server's variable.
 */
export async function connectTarget(url: string, log?: (message: string) => void): Promise<pg.Client> {
  try {
    const store = await openPostgresStore(url, { log, applicationName: 'openrecall-migrate-db', setting: TARGET_OPTION });
    await store.close();
  } catch (error) {
    if (error instanceof SchemaTooNewError) throw new MigrateRefusedError(`${TARGET_OPTION} (${redactDatabaseUrl(url)}): ${error.message}`);
    if (error instanceof StoreOpenError) throw new MigrateRefusedError(error.message);
    throw error;
  }
  const client = new pg.Client({ connectionString: url, application_name: 'openrecall-migrate-db' });
  // A connection lost mid-copy fails the statement in flight (the command says to run it again); without a
  // listener the client's 'error' event would end the process instead.
  client.on('error', () => {});
  await client.connect();
  return client;
}

/**
 * Every frame PostgreSQL already holds must be this file's frame of the same id (an earlier, interrupted copy):
 * a database of another data dir would get frames mixed under colliding ids.
 */
export async function checkTargetHoldsOnlyOurFrames(source: Database.Database, target: pg.Client, url: string): Promise<void> {
  const ours = source.prepare('SELECT capture_id, timestamp FROM entries WHERE id = ?');
  for (let after = 0; ; ) {
    const { rows } = await target.query<{ id: string; capture_id: string | null; timestamp: number }>(
      'SELECT id, capture_id, timestamp FROM entries WHERE id > $1 ORDER BY id LIMIT 10000',
      [after],
    );
    if (rows.length === 0) return;
    for (const row of rows) {
      const mine = ours.get(Number(row.id)) as { capture_id: string | null; timestamp: number } | undefined;
      if (!mine || mine.capture_id !== row.capture_id || mine.timestamp !== row.timestamp) {
        throw new MigrateRefusedError(
          `${TARGET_OPTION} (${redactDatabaseUrl(url)}) already holds other frames (its frame ${row.id} is not this data dir's); nothing was copied: migrate into an empty database`,
        );
      }
    }
    after = Number(rows.at(-1)!.id);
  }
}
