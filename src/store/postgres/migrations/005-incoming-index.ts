import type { PgMigration } from '../pg-migrations.js';

/** The partial index's condition: a query must repeat it for PostgreSQL to use the index. */
export const PG_IS_INCOMING_UPLOAD = `starts_with(image_path, 'screenshots/incoming/')`;

/** SQLite's migration 14: start-up reads only the frames still pointing at an upload, not every row. */
export const incomingIndexMigration: PgMigration = {
  version: 5,
  name: 'partial index of the frames still pointing at an upload (start-up reads only those)',
  sql: `CREATE INDEX idx_entries_incoming ON entries (image_path) WHERE ${PG_IS_INCOMING_UPLOAD};`,
};
