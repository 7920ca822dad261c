import type { DataDir } from '../files/data-dir.js';
import { DamagedFileError } from '../files/file-cipher.js';

export interface DamagedFilesReport {
  checked: number;
  /** Data-dir paths whose sealed bytes do not authenticate. */
  damaged: string[];
  /** True when the time budget ran out before every file was read. */
  partial: boolean;
}

const FOLDERS = ['screenshots', 'thumbnails', 'compact'];

/**
 * Reads every frame image, thumbnail and compacted file of an encrypted data dir through its cipher, within
 * `budgetMs`: a file whose sealed bytes do not authenticate (a changed byte, cut short) is named.
 */
export async function findDamagedFiles(dataDir: DataDir, budgetMs: number): Promise<DamagedFilesReport> {
  const deadline = Date.now() + budgetMs;
  const report: DamagedFilesReport = { checked: 0, damaged: [], partial: false };
  const walk = async (dir: string): Promise<void> => {
    for (const entry of dataDir.entriesSync(dir)) {
      if (Date.now() > deadline) {
        report.partial = true;
        return;
      }
      const relative = `${dir}/${entry.name}`;
      if (!entry.isFile) {
        await walk(relative);
        continue;
      }
      if (entry.name.endsWith('.part') || entry.name.includes('.tmp')) continue;
      // An upload reserve's files, created ahead in screenshots/incoming, are empty until an upload is written in one.
      if (dir === 'screenshots/incoming' && dataDir.statSync(relative)?.diskBytes === 0) continue;
      report.checked++;
      try {
        await dataDir.readFile(relative);
      } catch (error) {
        if (error instanceof DamagedFileError) report.damaged.push(relative);
        // a file removed meanwhile (processing, retention) is not damage
      }
    }
  };
  for (const folder of FOLDERS) await walk(folder);
  return report;
}
