import pg from 'pg';
import { newerSchemaMessage } from '../ports.js';
import { pgMigrations } from './migrations/index.js';
import { newestVersion, schemaVersion } from './pg-migrations.js';
import { checkDatabaseUrl, connectionErrorMessage, redactDatabaseUrl } from './pg-connection-errors.js';

export interface DatabaseProbe {
  status: 'ok' | 'warn' | 'fail';
  message: string;
}

/**
 * What `doctor` says about OPENRECALL_DATABASE_URL: reachable, which server, which schema. Reads only: a
 * doctor run never creates or upgrades anything.
 */
export async function probePostgres(url: string): Promise<DatabaseProbe> {
  try {
    checkDatabaseUrl(url);
  } catch (error) {
    return { status: 'fail', message: connectionErrorMessage(url, error) };
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, application_name: 'openrecall-doctor' });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    return { status: 'fail', message: connectionErrorMessage(url, error) };
  }
  try {
    const where = `PostgreSQL ${(await client.query('SHOW server_version')).rows[0].server_version} at ${redactDatabaseUrl(url)}`;
    const newest = newestVersion(pgMigrations);
    const current = await schemaVersion(client);
    if (current === 0) return { status: 'warn', message: `${where}: no OpenRecall tables yet (the first server to start creates them)` };
    if (current > newest) return { status: 'fail', message: `${where}: ${newerSchemaMessage(current, newest)}` };
    const frames = Number((await client.query('SELECT count(*) AS n FROM entries')).rows[0].n);
    const upgrade = current < newest ? ` (upgraded to ${newest} when a server starts)` : '';
    return { status: 'ok', message: `${where}, schema version ${current}${upgrade}, ${frames} frame(s)` };
  } catch (error) {
    return { status: 'fail', message: connectionErrorMessage(url, error) };
  } finally {
    await client.end().catch(() => {});
  }
}
