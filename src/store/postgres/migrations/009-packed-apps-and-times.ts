import type { PgMigration } from '../pg-migrations.js';

/**
 * What a one-word search with an app or time filter needs from the packed word index (pg-packed-words.ts), so that
 * it intersects packs instead of reading every match's row and word vector:
 * - per segment, a pack of the frames of each app (appPackKey(): a lexeme no word can be), intersected with the
 *   word's pack by intarray's `&`;
 * - per segment, the time its frames span: a time filter then checks the frames of the segments it cuts through only;
 * - `filterable`: the segment has both. A segment built before (or by an older processor) has neither until the idle
 *   processor adds them, from the frames as they are now: 6 s for a million frames.
 * A frame whose app or time changes is marked for repair like one whose words change.
 */
export const packedAppsAndTimesMigration: PgMigration = {
  version: 9,
  name: 'packed word index: app packs and time spans per segment',
  sql: `
CREATE EXTENSION IF NOT EXISTS intarray;
ALTER TABLE word_segments
  ADD COLUMN min_ts double precision,
  ADD COLUMN max_ts double precision,
  ADD COLUMN filterable boolean NOT NULL DEFAULT false;
DROP TRIGGER entries_word_index_update ON entries;
CREATE TRIGGER entries_word_index_update AFTER UPDATE ON entries
  FOR EACH ROW WHEN (OLD.search_words IS DISTINCT FROM NEW.search_words OR OLD.status IS DISTINCT FROM NEW.status
    OR OLD.app IS DISTINCT FROM NEW.app OR OLD.timestamp IS DISTINCT FROM NEW.timestamp)
  EXECUTE FUNCTION openrecall_word_index_mark();
`,
};
