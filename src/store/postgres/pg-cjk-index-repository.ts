import type pg from 'pg';
import { query as runQuery } from './pg-query.js';
import { cjkIndexText } from '../cjk.js';
import type { CjkIndexRepository } from '../ports.js';

/**
 * The bigram index of CJK OCR text (`entries.cjk_grams`, migration 2). Written by the OCR stage after the
 * text; a trigger clears it when the text changes, and it goes with the row.
 */
export class PgCjkIndexRepository implements CjkIndexRepository {
  constructor(private readonly pool: pg.Pool) {}

  async save(entryId: number, text: string | null): Promise<void> {
    await runQuery(this.pool, 'UPDATE entries SET cjk_grams = $2 WHERE id = $1', [entryId, cjkIndexText(text) ?? null]);
  }
}
