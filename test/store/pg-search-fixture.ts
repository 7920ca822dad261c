import pg from 'pg';
import { searchMigration } from '../../src/store/postgres/migrations/002-search.js';
import { PgCjkIndexRepository } from '../../src/store/postgres/pg-cjk-index-repository.js';
import { PgSearchRepository } from '../../src/store/postgres/pg-search-repository.js';
import { createTestDatabase } from '../helpers/postgres.js';
import type { SearchTarget, SeedFrame } from './search-contract-cases.js';

/**
 * `entries` exactly as the PostgreSQL core's migration 1 creates it, so the search migration and repository
 * can be tested before the core store exists. Replaced by openTestStore('postgres') at merge.
 */
const ENTRIES_DDL = `
CREATE TABLE entries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  timestamp double precision NOT NULL,
  status text NOT NULL DEFAULT 'PENDING',
  app text,
  title text,
  capture_id text UNIQUE,
  image_path text,
  monitor int,
  width int,
  height int,
  bytes bigint,
  received_at double precision,
  attempts int NOT NULL DEFAULT 0,
  last_error text,
  processing_started_at double precision,
  processing_finished_at double precision,
  worker_id text,
  lease_expires_at double precision,
  description text,
  text text
)`;

export interface PgSearchFixture extends SearchTarget {
  pool: pg.Pool;
}

/** A fresh database with `entries`, migration 2, and the two search repositories. */
export async function openPgSearchFixture(): Promise<PgSearchFixture> {
  const database = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  // DROP DATABASE … WITH (FORCE) at cleanup ends connections the pool is still closing: not a test failure.
  pool.on('error', () => {});
  await pool.query(ENTRIES_DDL);
  await pool.query(searchMigration.sql);
  const search = new PgSearchRepository(pool);
  const cjkIndex = new PgCjkIndexRepository(pool);
  return {
    name: 'postgres (search fixture)',
    pool,
    search,
    async seed(frames: SeedFrame[]) {
      const ids: number[] = [];
      for (const f of frames) {
        const { rows } = await pool.query<{ id: string }>(
          `INSERT INTO entries (timestamp, status, app, title, text, description, image_path) VALUES ($1, $2, $3, $4, $5, $6, 'screenshots/x.webp') RETURNING id`,
          [f.timestamp, f.status ?? 'COMPLETED', f.app ?? null, f.title ?? null, f.text ?? null, f.description ?? null],
        );
        const id = Number(rows[0]!.id);
        await cjkIndex.save(id, f.text ?? null);
        ids.push(id);
      }
      return ids;
    },
    async setText(id: number, text: string) {
      await pool.query('UPDATE entries SET text = $2 WHERE id = $1', [id, text]);
      await cjkIndex.save(id, text);
    },
    async remove(id: number) {
      await pool.query('DELETE FROM entries WHERE id = $1', [id]);
    },
    async cleanup() {
      try {
        await pool.end();
      } finally {
        await database.drop();
      }
    },
  };
}
