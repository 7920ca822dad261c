import type pg from 'pg';
import { newerSchemaMessage, StoreOpenError } from '../ports.js';
import { type Queryable, query, withClient } from './pg-query.js';

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

// Two servers starting together take turns: the second sees the first one's versions and skips them.
const MIGRATION_LOCK = `SELECT pg_advisory_xact_lock(hashtext('openrecall_schema'))`;
const SCHEMA_TABLE = `CREATE TABLE IF NOT EXISTS openrecall_schema (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

export class SchemaTooNewError extends StoreOpenError {
  override readonly name: string = 'SchemaTooNewError';
}

/** Applies the migrations this database lacks, one transaction each; refuses a database from a newer OpenRecall. */
export async function runPgMigrations(pool: pg.Pool, migrations: PgMigration[], log: (message: string) => void): Promise<void> {
  const newest = newestVersion(migrations);
  await withClient(pool, async (client) => {
    for (;;) {
      await query(client, 'BEGIN');
      try {
        await query(client, MIGRATION_LOCK);
        const current = await schemaVersion(client);
        if (current > newest) {
          throw new SchemaTooNewError(newerSchemaMessage(current, newest));
        }
        const next = migrations.filter((m) => m.version > current).sort((a, b) => a.version - b.version)[0];
        if (!next) {
          await query(client, 'COMMIT');
          return;
        }
        await query(client, SCHEMA_TABLE);
        if (next.sql.trim()) await query(client, next.sql);
        await query(client, 'INSERT INTO openrecall_schema (version, name) VALUES ($1, $2)', [next.version, next.name]);
        await query(client, 'COMMIT');
        log(`database migrated to version ${next.version}: ${next.name}`);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    }
  });
}

export const newestVersion = (migrations: PgMigration[]) => Math.max(...migrations.map((m) => m.version));

/** The version of the newest applied migration; 0 for an empty database. Creates nothing. */
export async function schemaVersion(client: Queryable): Promise<number> {
  const [exists] = await query<{ present: boolean }>(client, `SELECT to_regclass('openrecall_schema') IS NOT NULL AS present`);
  if (!exists?.present) return 0;
  const [row] = await query<{ version: number | null }>(client, 'SELECT max(version) AS version FROM openrecall_schema');
  return row?.version ?? 0;
}
