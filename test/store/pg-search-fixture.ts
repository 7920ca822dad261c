import pg from 'pg';
import { pgMigrations } from '../../src/store/postgres/migrations/index.js';
import { runPgMigrations } from '../../src/store/postgres/pg-migrations.js';
import { PgCjkIndexRepository } from '../../src/store/postgres/pg-cjk-index-repository.js';
import { PgSearchRepository } from '../../src/store/postgres/pg-search-repository.js';
import { createTestDatabase } from '../helpers/postgres.js';
import type { SearchTarget, SeedFrame } from './search-contract-cases.js';

export interface PgSearchFixture extends SearchTarget {
  pool: pg.Pool;
}

/** A fresh database with the PostgreSQL schema and the two search repositories. */
export async function openPgSearchFixture(): Promise<PgSearchFixture> {
  const database = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  // DROP DATABASE … WITH (FORCE) at cleanup ends connections the pool is still closing: not a test failure.
  pool.on('error', () => {});
  // The real schema (every migration), without the rest of the store: the test drives the pool directly.
  await runPgMigrations(pool, pgMigrations, () => {});
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

/**
 * A search repository whose every statement is recorded (through the pool or a checked-out client), so that a
 * test can EXPLAIN exactly what it ran.
 */
export function recordingSearch(pool: pg.Pool) {
  const { statements, pool: recording } = recordingPool(pool);
  return { statements, repository: new PgSearchRepository(recording) };
}

/** A pool that records every statement sent through it, and through the clients it checks out. */
export function recordingPool(pool: pg.Pool) {
  const statements: Array<{ sql: string; values?: unknown[] }> = [];
  const proxy = {
    query: (sql: string, values?: unknown[]) => {
      statements.push({ sql, values });
      return pool.query(sql, values);
    },
    connect: async () => {
      const client = await pool.connect();
      return new Proxy(client, {
        get(target, key, receiver) {
          if (key !== 'query') return Reflect.get(target, key, receiver);
          return (sql: string, values?: unknown[]) => {
            statements.push({ sql, values });
            return target.query(sql, values);
          };
        },
      });
    },
  } as unknown as pg.Pool;
  return { statements, pool: proxy };
}
