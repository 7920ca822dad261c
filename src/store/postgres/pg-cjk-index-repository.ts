// Placeholder: the search engineer's implementation replaces this file at merge.
import type pg from 'pg';
import type { CjkIndexRepository } from '../ports.js';

export class PgCjkIndexRepository implements CjkIndexRepository {
  constructor(readonly pool: pg.Pool) {}
  save(): Promise<void> {
    throw new Error('not implemented');
  }
}
