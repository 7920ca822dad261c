import type { PgMigration } from '../pg-migrations.js';
import { ASCII_PUNCTUATION, translateSql, WORDS_CONFIG } from '../pg-search-text.js';

/**
 * A tsvector holds at most 1 MB: text beyond these lengths is not indexed, so that an enormous OCR text can
 * never make saving a frame fail. A 4K screen full of small print is under 100 000 characters.
 */
const searchText = (column: string, maxChars: number) => `to_tsvector('${WORDS_CONFIG}'::regconfig, openrecall_search_text(left(${column}, ${maxChars})))`;

/**
 * Between two columns' words: a phrase must not run from the end of the OCR text into the title (FTS5 columns
 * are separate). No query can produce this lexeme: queries lose their punctuation before parsing.
 */
const COLUMN_GAP = `'''|'':1'::tsvector`;

/**
 * Keyword search (the PostgreSQL side of SQLite's migrations 2, 5 and 6):
 * - `search_words`: stemmed words of OCR text, description, title and app, weighted A–D for ranking
 *   (text 1.0, description 0.8, title 0.6, app 0.4 as in SQLite's bm25), in a GIN index;
 * - trigram indexes on the short fields for substrings ("voice" finds "Invoice") and CJK titles;
 * - `cjk_grams`: bigrams of CJK OCR text (store/cjk.ts), written by the OCR stage, cleared when the text changes.
 */
export const searchMigration: PgMigration = {
  version: 2,
  name: 'keyword search: stemmed word index, trigram substrings, CJK bigrams',
  sql: `
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TEXT SEARCH DICTIONARY openrecall_english_stem (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION ${WORDS_CONFIG} (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION ${WORDS_CONFIG}
  ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH unaccent, openrecall_english_stem;
ALTER TEXT SEARCH CONFIGURATION ${WORDS_CONFIG}
  ALTER MAPPING FOR numword, numhword, hword_numpart WITH unaccent, simple;

CREATE FUNCTION openrecall_search_text(value text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $fn$ SELECT ${translateSql(`coalesce(value, '')`, ASCII_PUNCTUATION, ' '.repeat(ASCII_PUNCTUATION.length))} $fn$;

-- Rows stay small (the OCR text and the word vector live in the TOAST table), so that a search's bitmap heap
-- scan, which reads the heap page of every match, touches few pages: at the default (2 kB) a row kept its
-- compressed OCR text inline and the heap of 100 000 frames was 150 MB, larger than shared_buffers.
ALTER TABLE entries SET (toast_tuple_target = 1024);

ALTER TABLE entries ADD COLUMN search_words tsvector GENERATED ALWAYS AS (
  setweight(${searchText('text', 200_000)}, 'A') || ${COLUMN_GAP} ||
  setweight(${searchText('description', 50_000)}, 'B') || ${COLUMN_GAP} ||
  setweight(${searchText('title', 5_000)}, 'C') || ${COLUMN_GAP} ||
  setweight(${searchText('app', 5_000)}, 'D')
) STORED;
CREATE INDEX entries_search_words ON entries USING gin (search_words);

CREATE INDEX entries_title_trgm ON entries USING gin (title gin_trgm_ops);
CREATE INDEX entries_app_trgm ON entries USING gin (app gin_trgm_ops);
CREATE INDEX entries_description_trgm ON entries USING gin (description gin_trgm_ops);

ALTER TABLE entries ADD COLUMN cjk_grams text;
CREATE INDEX entries_cjk_grams ON entries USING gin (to_tsvector('simple'::regconfig, cjk_grams)) WHERE cjk_grams IS NOT NULL;

CREATE FUNCTION openrecall_clear_cjk_grams() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.text IS DISTINCT FROM OLD.text AND NEW.cjk_grams IS NOT DISTINCT FROM OLD.cjk_grams THEN
    NEW.cjk_grams := NULL;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER entries_clear_cjk_grams BEFORE UPDATE OF text ON entries
  FOR EACH ROW EXECUTE FUNCTION openrecall_clear_cjk_grams();
`,
};
