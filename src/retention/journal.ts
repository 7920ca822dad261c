import { DataDir } from '../files/data-dir.js';
import { plainCipher } from '../files/plain-cipher.js';

const JOURNAL = 'retention.journal';

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
  private readonly files: DataDir;

  /** The data dir's DataDir; a bare path (tests) keeps the journal plain. */
  constructor(dataDir: DataDir | string) {
    this.files = typeof dataDir === 'string' ? new DataDir(dataDir, plainCipher) : dataDir;
  }

  get path(): string {
    return this.files.resolve(JOURNAL);
  }

  write(entries: JournalEntry[]): void {
    this.files.writeFileAtomicSync(JOURNAL, JSON.stringify(entries), { durable: true });
  }

  /** The entries left by an interrupted run; none when there is no journal; an error when it is unreadable. */
  read(): JournalEntry[] {
    let text: string;
    try {
      text = this.files.readFileSync(JOURNAL).toString('utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const entries = JSON.parse(text) as unknown;
    if (!Array.isArray(entries)) throw new Error('not a list of frames');
    return entries as JournalEntry[];
  }

  remove(): void {
    this.files.removeSync(JOURNAL);
  }
}
