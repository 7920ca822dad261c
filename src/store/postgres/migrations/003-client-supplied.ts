import type { PgMigration } from '../pg-migrations.js';

/** The PostgreSQL side of SQLite's migration 10: client-supplied text, browser URL and metadata; clients' reports. */
export const clientSuppliedMigration: PgMigration = {
  version: 3,
  name: "client-supplied text, browser URL and metadata on entries; clients' full reports (MyRecall v3)",
  sql: `
ALTER TABLE entries ADD COLUMN text_source text, ADD COLUMN browser_url text, ADD COLUMN supplied_text text, ADD COLUMN client_metadata text;
CREATE INDEX idx_entries_browser_url ON entries (lower(browser_url)) WHERE browser_url IS NOT NULL;
ALTER TABLE capture_clients ADD COLUMN report text;
`,
};
