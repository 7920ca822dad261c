import type pg from 'pg';
import type { ClientReport, ClientRow, ClientsRepository } from '../ports.js';
import { query, queryCount } from './pg-query.js';

const COLUMNS = `id, kind, host, version, address, first_seen, last_seen, heartbeat_seconds, paused, state, buffer_bytes, buffer_items,
  desired_paused, desired_revision, report`;

/** The capture clients that have called in (POST /api/heartbeat). */
export class PgClientsRepository implements ClientsRepository {
  constructor(private readonly pool: pg.Pool) {}

  list(): Promise<ClientRow[]> {
    return query<ClientRow>(this.pool, `SELECT ${COLUMNS} FROM capture_clients ORDER BY last_seen DESC`);
  }

  async get(id: string): Promise<ClientRow | undefined> {
    const [row] = await query<ClientRow>(this.pool, `SELECT ${COLUMNS} FROM capture_clients WHERE id = $1`, [id]);
    return row;
  }

  async lastSeen(): Promise<number | null> {
    const [row] = await query<{ t: number | null }>(this.pool, 'SELECT max(last_seen) AS t FROM capture_clients');
    return row?.t ?? null;
  }

  async report(client: ClientReport, now: number): Promise<ClientRow> {
    const [row] = await query<ClientRow>(
      this.pool,
      `INSERT INTO capture_clients (id, kind, host, version, address, first_seen, last_seen, heartbeat_seconds, paused, state, buffer_bytes, buffer_items, report)
       VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, host = excluded.host, version = excluded.version, address = excluded.address,
         last_seen = excluded.last_seen, heartbeat_seconds = excluded.heartbeat_seconds, paused = excluded.paused, state = excluded.state,
         buffer_bytes = excluded.buffer_bytes, buffer_items = excluded.buffer_items, report = excluded.report
       RETURNING ${COLUMNS}`,
      [
        client.id,
        client.kind,
        client.host,
        client.version,
        client.address,
        now,
        client.heartbeat_seconds,
        client.paused === null ? null : client.paused ? 1 : 0,
        client.state,
        client.buffer_bytes,
        client.buffer_items,
        client.report ?? null,
      ],
    );
    return row!;
  }

  async desirePaused(id: string, paused: boolean, revision: number): Promise<boolean> {
    const sql = 'UPDATE capture_clients SET desired_paused = $1, desired_revision = $2 WHERE id = $3';
    return (await queryCount(this.pool, sql, [paused ? 1 : 0, revision, id])) === 1;
  }

  prune(keep: number, seenBefore: number): Promise<number> {
    const sql = `DELETE FROM capture_clients WHERE last_seen < $1
      OR id NOT IN (SELECT id FROM capture_clients ORDER BY last_seen DESC, id LIMIT $2)`;
    return queryCount(this.pool, sql, [seenBefore, keep]);
  }
}
