import type { PgMigration } from '../pg-migrations.js';

/** The redaction marker (SQLite's migration 11): which rules version redacted a frame, and what it hid. */
export const redactionMigration: PgMigration = {
  version: 4,
  name: 'redaction marker (rules version, what was redacted) on entries',
  sql: `
ALTER TABLE entries ADD COLUMN redaction_version integer;
ALTER TABLE entries ADD COLUMN redactions text;
CREATE INDEX idx_entries_redaction ON entries (redaction_version, timestamp) WHERE status = 'COMPLETED';
`,
};
