import type { ImageStore } from '../images/image-store.js';
import type { DeletableFrame, StorageRepository } from '../store/ports.js';
import type { JournalEntry, RetentionJournal } from './journal.js';

/** Rows deleted whose files are still on disk (and in the journal). */
export interface RowsDeleted {
  frames: DeletableFrame[];
  entries: JournalEntry[];
}

/**
 * Deleting frames, crash-safe, in two steps: deleteRows() journals a batch's files and deletes its rows in
 * one transaction; removeFiles() removes those files, then the journal. A crash between the two leaves the
 * journal, and sweep() finishes the job at the next run.
 */
export class FrameDeletion {
  constructor(
    private readonly repo: StorageRepository,
    private readonly images: ImageStore,
    private readonly journal: RetentionJournal,
    /** Told the size of each thumbnail removed (the storage figures count them). */
    private readonly onThumbnailRemoved: (bytes: number) => void = () => {},
  ) {}

  /** Both steps; returns the frames whose rows were deleted (finished frames only). */
  async delete(frames: DeletableFrame[]): Promise<DeletableFrame[]> {
    const rows = await this.deleteRows(frames);
    await this.removeFiles(rows);
    return rows.frames;
  }

  async deleteRows(frames: DeletableFrame[]): Promise<RowsDeleted> {
    const entries = frames.map((f) => ({ id: f.id, files: this.filesOf(f) }));
    this.journal.write(entries);
    const deleted = await this.repo.deleteFinished(frames.map((f) => f.id));
    const gone = new Set(deleted.map((f) => f.id));
    return { frames: deleted, entries: entries.filter((e) => gone.has(e.id)) };
  }

  async removeFiles(rows: RowsDeleted): Promise<void> {
    for (const entry of rows.entries) for (const file of entry.files) await this.removeFile(file);
    this.journal.remove();
  }

  /** Finishes a batch a crash interrupted: removes the files of journalled frames whose rows are gone. */
  async sweep(): Promise<number> {
    const entries = this.journal.read();
    const existing = await this.repo.existing(entries.map((e) => e.id));
    let removed = 0;
    for (const entry of entries) {
      if (existing.has(entry.id)) continue;
      for (const file of entry.files) {
        await this.removeFile(file);
        removed++;
      }
    }
    this.journal.remove();
    return removed;
  }

  private filesOf(frame: DeletableFrame): string[] {
    const files = [this.images.thumbnailPath(frame.id)];
    if (frame.image_path) files.unshift(frame.image_path);
    return files;
  }

  private async removeFile(relative: string): Promise<void> {
    try {
      this.images.resolve(relative);
    } catch {
      return; // a path outside the data dir is never touched
    }
    const isThumbnail = relative.startsWith('thumbnails/');
    const size = isThumbnail ? ((await this.images.files.stat(relative))?.diskBytes ?? 0) : 0;
    await this.images.remove(relative);
    if (isThumbnail && size > 0) this.onThumbnailRemoved(size);
  }
}
