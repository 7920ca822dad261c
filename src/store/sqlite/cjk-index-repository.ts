import { cjkIndexText } from '../cjk.js';
import type { CjkIndexRepository } from '../ports.js';
import type { Db } from './database.js';

/**
 * The bigram index of CJK OCR text (`entries_cjk`, migration 6). Written by the OCR stage next to the text;
 * triggers remove a frame's bigrams when it is deleted or its text changes.
 */
export class SqliteCjkIndexRepository implements CjkIndexRepository {
  private readonly insert;
  private readonly remove;

  constructor(db: Db) {
    this.insert = db.prepare(`INSERT INTO entries_cjk (rowid, grams) VALUES (?, ?)`);
    this.remove = db.prepare(`DELETE FROM entries_cjk WHERE rowid = ?`);
  }

  /** Indexes a frame's OCR text (nothing for text without CJK characters). Call after the text is saved. */
  async save(entryId: number, text: string | null): Promise<void> {
    const grams = cjkIndexText(text);
    if (!grams) return;
    this.remove.run(entryId);
    this.insert.run(entryId, grams);
  }
}
