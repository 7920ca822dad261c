import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../files/atomic-write.js';

export interface JournalEntry {
  id: number;
  /** Paths relative to the data dir. */
  files: string[];
}

/**
 * The files of the batch being deleted, written (and fsynced) before its rows go: after a crash between
 * rows and files, the next run reads it back and removes the files whose rows are gone.
 */
export class RetentionJournal {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = path.join(dataDir, 'retention.journal');
  }

  write(entries: JournalEntry[]): void {
    writeFileAtomicSync(this.path, JSON.stringify(entries), { durable: true });
  }

  /** The entries left by an interrupted run; none when there is no journal; an error when it is unreadable. */
  read(): JournalEntry[] {
    let text: string;
    try {
      text = fs.readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const entries = JSON.parse(text) as unknown;
    if (!Array.isArray(entries)) throw new Error('not a list of frames');
    return entries as JournalEntry[];
  }

  remove(): void {
    fs.rmSync(this.path, { force: true });
  }
}
