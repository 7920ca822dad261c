// Placeholder: the search engineer's implementation replaces this file at merge.
import type pg from 'pg';
import type { SearchRepository } from '../ports.js';

const notImplemented = (): never => {
  throw new Error('not implemented');
};

export class PgSearchRepository implements SearchRepository {
  constructor(readonly pool: pg.Pool) {}
  keyword = notImplemented;
  browse = notImplemented;
  snippets = notImplemented;
  rows = notImplemented;
  filteredIds = notImplemented;
  apps = notImplemented;
}
