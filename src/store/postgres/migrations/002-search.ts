// Placeholder: the search engineer's migration replaces this file at merge.
import type { PgMigration } from '../pg-migrations.js';

export const searchMigration: PgMigration = { version: 2, name: 'search indexes (placeholder)', sql: '' };
