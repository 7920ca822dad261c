import fs from 'node:fs';
import { FILE_MODE } from './owner-only.js';

/** An empty file of the reserve: its name (the caller's), absolute path and open descriptor. */
export interface ReservedFile {
  name: string;
  path: string;
  fd: number;
}

export interface NewFileReserveOptions {
  /** Files kept ready. */
  size: number;
  /**
   * A file older than this is replaced rather than handed out: a server starting on a shared data dir removes the
   * upload files nobody references once they are an hour old, which would take a long-idle reserve's files.
   */
  maxAgeMs: number;
  /**
   * Runs after a file is created, before it is handed out (an fsync of its folder, so that its name survives a
   * power cut before it is taken: files written where they are created, never renamed).
   */
  afterCreate?: () => Promise<void>;
  now?: () => number;
}

/**
 * New empty files (0600) created ahead of need, off the event loop, so that an upload takes one at once. Creating
 * a file waits for the file system's journal, which the fsyncs of the uploads in flight keep busy, and for a free
 * libuv thread: the create was 0.3–1.5 ms of an upload's time on a quiet machine and 15 ms (p50) to 60 ms (p90)
 * with other disk work running (bench/ingest.ts at 160 uploads/s). Once half the files are taken, the missing ones
 * are created together.
 */
export class NewFileReserve {
  private readonly ready: Array<ReservedFile & { createdAt: number }> = [];
  private creating = 0;
  private closed = false;
  /** Files being closed and removed (close() waits for them). */
  private readonly discarding = new Set<Promise<void>>();
  private readonly now: () => number;

  constructor(
    /** A fresh name for each new file, and its absolute path (the folder exists). */
    private readonly newFile: () => { name: string; path: string },
    private readonly options: NewFileReserveOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** A file of the reserve, or one created now when none is ready (or the reserve is closed). */
  async take(): Promise<ReservedFile> {
    const now = this.now();
    let file = this.ready.shift();
    while (file && now - file.createdAt > this.options.maxAgeMs) {
      this.discard(file);
      file = this.ready.shift();
    }
    this.refill();
    if (file) return { name: file.name, path: file.path, fd: file.fd };
    const fresh = this.newFile();
    return { ...fresh, fd: await this.create(fresh.path) };
  }

  /** Files ready now (tests). */
  get readyCount(): number {
    return this.ready.length;
  }

  /** Resolves once no file is being created or removed (tests, and close()). */
  async settled(): Promise<void> {
    while (this.creating > 0 || this.discarding.size > 0) {
      if (this.creating > 0) await new Promise((resolve) => setImmediate(resolve));
      else await Promise.all(this.discarding);
    }
  }

  /** Closes and removes the files held, and one still being created once it is; resolves when they are gone. */
  async close(): Promise<void> {
    this.closed = true;
    for (const file of this.ready.splice(0)) this.discard(file);
    await this.settled();
  }

  /**
   * Once half the files are taken, creates the missing ones together: they share one afterCreate (one fsync of the
   * folder for the batch, not one per file, each a journal commit beside the uploads' own fsyncs).
   */
  private refill(): void {
    const held = this.ready.length + this.creating;
    if (this.closed || held > this.options.size / 2) return;
    const batch = Array.from({ length: this.options.size - held }, () => this.newFile());
    this.creating += batch.length;
    void this.createBatch(batch);
  }

  /**
   * Creates a batch's files one after the other. All at once, they woke as many threads of the pool, which queue on
   * the folder's lock and the journal: on two cores the event loop lost the CPU to them, 4–14 ms for the upload whose
   * take() began the batch (bench/ingest.ts, 32 files at a time; see BENCHMARKS.md).
   */
  private async createBatch(batch: Array<{ name: string; path: string }>): Promise<void> {
    const files: ReservedFile[] = [];
    for (const file of batch) {
      if (this.closed) break;
      // A full disk or a removed folder: the next take() creates its own file and meets the error there.
      const fd = await createFile(file.path).catch(() => undefined);
      if (fd !== undefined) files.push({ ...file, fd });
    }
    let kept = files.length > 0;
    if (kept && this.options.afterCreate)
      kept = await this.options.afterCreate().then(
        () => true,
        () => false,
      );
    this.creating -= batch.length;
    for (const file of files) {
      if (kept && !this.closed) this.ready.push({ ...file, createdAt: this.now() });
      else this.discard(file);
    }
  }

  /** A new file, and afterCreate() done; the file is removed when that fails. */
  private async create(path: string): Promise<number> {
    const fd = await createFile(path);
    if (!this.options.afterCreate) return fd;
    try {
      await this.options.afterCreate();
      return fd;
    } catch (error) {
      await new Promise<void>((resolve) => fs.close(fd, () => fs.unlink(path, () => resolve())));
      throw error;
    }
  }

  /** Closes and removes a file of the reserve, off the event loop (removing waits for the journal too). */
  private discard(file: ReservedFile): void {
    const gone = new Promise<void>((resolve) => fs.close(file.fd, () => fs.unlink(file.path, () => resolve())));
    this.discarding.add(gone);
    void gone.then(() => this.discarding.delete(gone));
  }
}

function createFile(path: string): Promise<number> {
  return new Promise((resolve, reject) => fs.open(path, 'wx', FILE_MODE, (error, fd) => (error ? reject(error) : resolve(fd))));
}
