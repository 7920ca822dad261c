import type { PgMigration } from '../pg-migrations.js';
import { WORD_INDEX_LOCK } from '../pg-word-index-repository.js';

/**
 * An inverted index beside the GIN index: each word's matches, with their rank, packed together (as FTS5 keeps a
 * word's doclist), so that a search reads a word's newest matches from a few pages instead of every matching frame's
 * row and word vector (pg-word-index-repository.ts).
 *
 * - `word_packs`: per word and segment (a range of frame ids), the ids of the COMPLETED frames holding it (offsets
 *   from `lo`, newest first) and each one's rank before normalisation (openrecall_word_scores). Built from `entries`
 *   by the idle processor, a segment at a time; `word_segments` lists the segments.
 * - `word_index_state`: the ids up to `covered_upto` are packed; a change to a frame at or below `marking_upto`
 *   (insert, words or status changed, delete) adds its id to `word_index_dirty`, which search reads from `entries`
 *   instead of from the packs until the segment is built again.
 * - Writers take the lock WORD_INDEX_LOCK shared while they mark, and the builder takes it alone to raise
 *   `marking_upto`: no change to a frame of a segment being built can go unmarked.
 */
export const wordPacksMigration: PgMigration = {
  version: 7,
  name: 'packed word matches: each word matches in a few pages',
  sql: `
CREATE TABLE word_segments (
  hi bigint PRIMARY KEY,
  lo bigint NOT NULL,
  CHECK (lo <= hi)
);

CREATE TABLE word_packs (
  lexeme text COLLATE "C" NOT NULL,
  hi bigint NOT NULL,
  lo bigint NOT NULL,
  n integer NOT NULL,
  offsets integer[] NOT NULL,
  scores real[] NOT NULL,
  PRIMARY KEY (lexeme, hi) INCLUDE (n)
);
CREATE INDEX word_packs_hi ON word_packs (hi);

CREATE TABLE word_index_state (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  covered_upto bigint NOT NULL DEFAULT 0,
  marking_upto bigint NOT NULL DEFAULT 0
);
INSERT INTO word_index_state DEFAULT VALUES;

CREATE TABLE word_index_dirty (id bigint NOT NULL);
CREATE INDEX word_index_dirty_id ON word_index_dirty (id);

-- The rank ts_rank_cd gives a frame for one word, with the weights {D 0.4, C 0.6, B 0.8, A 1.0} and normalisation 1
-- (the sum of the weights of the word's positions over the log of the document's length); search applies
-- normalisation 32 (rank / (rank + 1)) to the sum over the query's words.
CREATE FUNCTION openrecall_word_scores(words tsvector) RETURNS TABLE (lexeme text, score real)
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $fn$
  SELECT u.lexeme,
    ((SELECT sum(CASE w WHEN 'A' THEN 1.0::float8 WHEN 'B' THEN 0.8::float8 WHEN 'C' THEN 0.6::float8 ELSE 0.4::float8 END)
      FROM unnest(u.weights) w) / ln(l.len + 1))::real
  FROM (SELECT sum(greatest(cardinality(positions), 1)) AS len FROM unnest(words)) l, unnest(words) u
  WHERE u.lexeme <> '|'
$fn$;

CREATE FUNCTION openrecall_word_index_mark() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  frame_id bigint;
BEGIN
  IF TG_OP = 'INSERT' THEN frame_id := NEW.id; ELSE frame_id := OLD.id; END IF;
  PERFORM pg_advisory_xact_lock_shared(${WORD_INDEX_LOCK});
  IF frame_id <= (SELECT marking_upto FROM word_index_state) THEN
    INSERT INTO word_index_dirty (id) VALUES (frame_id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER entries_word_index_insert AFTER INSERT ON entries
  FOR EACH ROW EXECUTE FUNCTION openrecall_word_index_mark();
CREATE TRIGGER entries_word_index_update AFTER UPDATE ON entries
  FOR EACH ROW WHEN (OLD.search_words IS DISTINCT FROM NEW.search_words OR OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION openrecall_word_index_mark();
CREATE TRIGGER entries_word_index_delete AFTER DELETE ON entries
  FOR EACH ROW EXECUTE FUNCTION openrecall_word_index_mark();

CREATE FUNCTION openrecall_word_index_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE word_packs, word_segments, word_index_dirty;
  UPDATE word_index_state SET covered_upto = 0, marking_upto = 0;
  RETURN NULL;
END $$;
CREATE TRIGGER entries_word_index_truncate AFTER TRUNCATE ON entries
  FOR EACH STATEMENT EXECUTE FUNCTION openrecall_word_index_reset();
`,
};
