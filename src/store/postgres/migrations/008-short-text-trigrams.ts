import type { PgMigration } from '../pg-migrations.js';

/**
 * One trigram index over a frame's short fields together (title, app, description, a line apart), in place of the
 * app's and the description's own (the title's stays for the window filter). A substring search of several terms, or
 * of a term within a window filter, then intersects them inside one GIN index scan: with a trigram index per column
 * the planner read every title holding the commonest term (5 700 heap pages for "viul" at a million frames) before
 * testing the others. A term never holds a line break (query
 * text loses its control characters), so it matches the joined text exactly when it matches one of the fields.
 */
export const shortTextTrigramsMigration: PgMigration = {
  version: 8,
  name: 'one trigram index over title, app and description',
  sql: `
CREATE FUNCTION openrecall_short_text(title text, app text, description text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $fn$ SELECT coalesce(title, '') || E'\\n' || coalesce(app, '') || E'\\n' || coalesce(description, '') $fn$;
CREATE INDEX entries_short_text_trgm ON entries USING gin (openrecall_short_text(title, app, description) gin_trgm_ops);
-- No statement reads these any more (the window filter keeps the title's).
DROP INDEX entries_app_trgm, entries_description_trgm;
`,
};
