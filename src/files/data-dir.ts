import fs from 'node:fs';
import path from 'node:path';
import { pipeline, Readable } from 'node:stream';
import {
  type AtomicWriteOptions,
  removeLeftoverTemporaries,
  syncCreatedDirectories,
  syncDirectory,
  syncDirectoryAsync,
  writeFileAtomic,
  writeFileAtomicFrom,
  writeFileAtomicSync,
} from './atomic-write.js';
import { type ChunkSealer, DamagedFileError, type FileCipher } from './file-cipher.js';
import { KeptFsync } from './kept-fsync.js';
import { NewFileReserve, type NewFileReserveOptions } from './new-file-reserve.js';
import { checkDirectories, lstatKind, NotARegularFileError, readFileNoFollow } from './no-follow.js';
import { DIRECTORY_MODE, FILE_MODE } from './owner-only.js';
import { SealedLog } from './sealed-log.js';

export class PathOutsideDataDirError extends Error {}

/** A folder's entries counted, and some of them statted (DataDir.sampleSizes). */
export interface FolderSample {
  entries: number;
  /** Entries statted, and of them the files with blocks on the disk, and those blocks' bytes. */
  statted: number;
  files: number;
  diskBytes: number;
}

/** A file's size on the disk (sealed) and as its readers see it (plain). */
export interface DataFileStat {
  diskBytes: number;
  plainBytes: number;
  modifiedMs: number;
}

/**
 * The one gateway to the bytes of a data dir (the server's OPENRECALL_DATA_DIR, or the capture client's buffer):
 * every file under `root` is read and written here, through `cipher`, so that sealing files (src/encryption/)
 * happens in one place. Paths are relative to the root; one that would leave it is refused. The SQLite database
 * is the exception: SQLite encrypts it (src/store/sqlite).
 */
export class DataDir {
  readonly root: string;

  constructor(
    root: string,
    readonly cipher: FileCipher,
  ) {
    this.root = path.resolve(root);
  }

  resolve(relative: string): string {
    const absolute = path.resolve(this.root, relative);
    if (!absolute.startsWith(this.root + path.sep)) throw new PathOutsideDataDirError(`path escapes data dir: ${relative}`);
    return absolute;
  }

  // Reading

  async readFile(relative: string): Promise<Buffer> {
    return this.cipher.open(await fs.promises.readFile(this.resolve(relative)), relative);
  }

  readFileSync(relative: string): Buffer {
    return this.cipher.open(fs.readFileSync(this.resolve(relative)), relative);
  }

  /** A regular file's plaintext, never through a symbolic link (files/no-follow.ts): NotARegularFileError otherwise. */
  async readFileNoFollow(relative: string): Promise<Buffer> {
    this.resolve(relative);
    return this.cipher.open(await readFileNoFollow(this.root, relative), relative);
  }

  /** A file's first `bytes` bytes as they are on the disk, not opened: whether a file is sealed (yet) or still plain. */
  readHeadSync(relative: string, bytes: number): Buffer {
    const fd = fs.openSync(this.resolve(relative), 'r');
    try {
      const head = Buffer.alloc(bytes);
      return head.subarray(0, fs.readSync(fd, head, 0, bytes, 0));
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The plaintext of a file as a stream (a file too large to hold, or one sent as it is read). */
  createReadStream(relative: string): Readable {
    const opened = this.cipher.openStream(relative);
    pipeline(fs.createReadStream(this.resolve(relative)), opened, () => {});
    return opened;
  }

  /**
   * A file's plaintext as a stream whose first chunk has already authenticated (for an encrypted file: the
   * header and its first 64 KiB chunk, so a file of one chunk is fully checked), and its plain size. A damaged
   * first chunk rejects with DamagedFileError before anything is sent; a later damaged chunk errors the stream
   * (its consumer must stop, never use what it got as whole). The stream pulls from the file as it is read.
   */
  async openAuthenticated(relative: string): Promise<{ stream: Readable; plainBytes: number }> {
    const handle = await fs.promises.open(this.resolve(relative), 'r');
    let plainBytes: number;
    try {
      plainBytes = this.cipher.plainSize((await handle.stat()).size);
    } catch (error) {
      await handle.close();
      throw error;
    }
    const opened = this.cipher.openStream(relative);
    pipeline(handle.createReadStream(), opened, () => {});
    const stream = new Relay(opened);
    try {
      await stream.started;
    } catch (error) {
      stream.destroy();
      throw error;
    }
    return { stream, plainBytes };
  }

  /**
   * A whole file's plaintext read into a buffer the caller makes (`allocate` gets the plain size and returns a
   * buffer of at least that many bytes): a large file is never held twice. Plain files are read straight into it;
   * sealed ones are opened chunk by chunk. Undefined when the file is missing; DamagedFileError when it does not open.
   */
  async readFileInto<T extends Uint8Array>(relative: string, allocate: (plainBytes: number) => T): Promise<{ bytes: T; plainBytes: number } | undefined> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(this.resolve(relative), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const diskBytes = (await handle.stat()).size;
      const plainBytes = this.cipher.plainSize(diskBytes);
      const target = allocate(plainBytes);
      if (this.cipher.kind === 'plain') {
        for (let done = 0; done < plainBytes; ) {
          const { bytesRead } = await handle.read(target, done, Math.min(16 << 20, plainBytes - done), done);
          if (bytesRead === 0) throw new DamagedFileError(relative, 'cut short while read');
          done += bytesRead;
        }
        return { bytes: target, plainBytes };
      }
      // Sealed: read in large pieces, each opened synchronously (its plaintext copied out as it leaves the cipher).
      let filled = 0;
      let failure: Error | undefined;
      const opened = this.cipher.openStream(relative);
      opened.on('error', (error) => {
        failure ??= error;
      });
      opened.on('data', (piece: Buffer) => {
        if (filled + piece.length > plainBytes) failure ??= new DamagedFileError(relative, 'longer than its size says');
        else target.set(piece, filled);
        filled += piece.length;
      });
      const ended = new Promise<void>((resolve) => opened.once('end', resolve).once('error', () => resolve()));
      const buffer = Buffer.allocUnsafe(Math.min(16 << 20, Math.max(1, diskBytes)));
      for (let done = 0; done < diskBytes && !failure; ) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, diskBytes - done), done);
        if (bytesRead === 0) break;
        opened.write(Buffer.from(buffer.subarray(0, bytesRead)));
        done += bytesRead;
      }
      opened.end();
      await ended;
      if (failure) throw failure;
      if (filled !== plainBytes) throw new DamagedFileError(relative, 'cut short while read');
      return { bytes: target, plainBytes };
    } finally {
      await handle.close();
    }
  }

  // Writing

  /**
   * Writes a file so that a crash leaves either the whole file or nothing at its name (its folders are made);
   * `durable` also survives a power cut (fsync of the file, its folder and any folder made for it).
   */
  async writeFileAtomic(relative: string, bytes: Buffer | string, options: AtomicWriteOptions = {}): Promise<void> {
    const target = this.resolve(relative);
    const created = await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: DIRECTORY_MODE });
    await writeFileAtomic(target, this.cipher.seal(Buffer.from(bytes)), options);
    if (options.durable) await syncCreatedDirectories(created, path.dirname(target));
  }

  /**
   * writeFileAtomic for a large file given in pieces (views, not copies): sealed and written as they come, never
   * held whole a second time. The folders are made; `durable` as writeFileAtomic.
   */
  async writeFileAtomicFrom(relative: string, pieces: Iterable<Buffer>, options: AtomicWriteOptions = {}): Promise<void> {
    const target = this.resolve(relative);
    const created = await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: DIRECTORY_MODE });
    const seal = this.cipher.sealStream();
    const sealed = new Promise<void>((resolve, reject) =>
      pipeline(Readable.from(pieces, { objectMode: false }), seal, (error) => (error ? reject(error) : resolve())),
    );
    sealed.catch(() => {}); // seen through the iteration below
    await writeFileAtomicFrom(target, seal as AsyncIterable<Buffer>, options);
    await sealed;
    if (options.durable) await syncCreatedDirectories(created, path.dirname(target));
  }

  /**
   * An append-only log of sealed records (files/sealed-log.ts), created (with its folders) when missing. `accept`
   * sees the records kept so far, in order: the first it refuses is cut off with all after it.
   */
  async openSealedLog(relative: string, accept: (plain: Buffer, index: number) => boolean): Promise<SealedLog> {
    const target = this.resolve(relative);
    await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: DIRECTORY_MODE });
    return SealedLog.open(target, this.cipher, relative, accept);
  }

  /** A new, empty sealed log (an existing one at that name is emptied), with its folders, from synchronous code. */
  createSealedLogSync(relative: string): SealedLog {
    const target = this.resolve(relative);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: DIRECTORY_MODE });
    return SealedLog.create(target, this.cipher);
  }

  /** writeFileAtomic for small files written from synchronous code (journals); the folder must exist. */
  writeFileAtomicSync(relative: string, bytes: Buffer | string, options: AtomicWriteOptions = {}): void {
    writeFileAtomicSync(this.resolve(relative), this.cipher.seal(Buffer.from(bytes)), options);
  }

  /** Creates a small file that must not exist yet (EEXIST otherwise), 0600, not fsynced (a lock file). */
  writeNewFileSync(relative: string, bytes: Buffer | string): void {
    fs.writeFileSync(this.resolve(relative), this.cipher.seal(Buffer.from(bytes)), { flag: 'wx', mode: FILE_MODE });
  }

  /**
   * writeFileAtomicSync through a temporary of the caller's name (a folder scan tells an interrupted write by
   * it), always fsynced with its folder. `pauseHalfwayMs` (tests only) pauses mid-write so that a kill lands there.
   */
  writeFileViaSync(relative: string, temporary: string, bytes: Buffer, options: { pauseHalfwayMs?: number } = {}): void {
    const sealed = this.cipher.seal(bytes);
    const target = this.resolve(relative);
    const temp = this.resolve(temporary);
    try {
      const fd = fs.openSync(temp, 'wx', FILE_MODE);
      try {
        const half = options.pauseHalfwayMs ? Math.floor(sealed.length / 2) : sealed.length;
        for (let at = 0; at < half; ) at += fs.writeSync(fd, sealed, at, half - at);
        if (options.pauseHalfwayMs) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, options.pauseHalfwayMs);
        for (let at = half; at < sealed.length; ) at += fs.writeSync(fd, sealed, at);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temp, target);
    } catch (error) {
      fs.rmSync(temp, { force: true });
      throw error;
    }
    syncDirectory(path.dirname(target));
  }

  /**
   * Seals a file left plain in a folder whose files are sealed now (the capture client's buffer when encryption is
   * switched on), through a temporary of the caller's name as writeFileViaSync: a crash leaves the plain file or
   * the sealed one at its name, never a mix.
   */
  sealInPlaceSync(relative: string, temporary: string): void {
    this.writeFileViaSync(relative, temporary, fs.readFileSync(this.resolve(relative)));
  }

  /** A new file written piece by piece (an upload as it arrives); see SealedFileWriter. */
  createFile(relative: string): SealedFileWriter {
    const file = this.resolve(relative);
    return new SealedFileWriter(file, fs.openSync(file, 'wx', FILE_MODE), this.writerSeal());
  }

  /** createFile with the file created off the event loop (creating waits for the file system's journal). */
  async createFileAsync(relative: string): Promise<SealedFileWriter> {
    const file = this.resolve(relative);
    const fd = await new Promise<number>((resolve, reject) => fs.open(file, 'wx', FILE_MODE, (error, opened) => (error ? reject(error) : resolve(opened))));
    return new SealedFileWriter(file, fd, this.writerSeal());
  }

  /**
   * New files created ahead of need (NewFileReserve), handed out as createFileAsync's writers. `newRelative` names
   * each (a fresh name every call; its folder must exist).
   */
  newFileReserve(newRelative: () => string, options: NewFileReserveOptions): FileWriterReserve {
    const reserve = new NewFileReserve(() => {
      const relative = newRelative();
      return { name: relative, path: this.resolve(relative) };
    }, options);
    return {
      take: async () => {
        const { name, path: file, fd } = await reserve.take();
        return { relative: name, writer: new SealedFileWriter(file, fd, this.writerSeal()) };
      },
      close: () => reserve.close(),
    };
  }

  private writerSeal(): ChunkSealer | null {
    return this.cipher.kind === 'plain' ? null : this.cipher.sealer();
  }

  /**
   * writeFileAtomic without following a symbolic link: `relative`'s folders are checked (made when missing),
   * and something other than a file at its name is refused (NotARegularFileError).
   */
  async writeFileNoFollow(relative: string, bytes: Buffer, options: AtomicWriteOptions = {}): Promise<void> {
    this.resolve(relative);
    await checkDirectories(this.root, relative, { create: true });
    if ((await lstatKind(this.root, relative)) === 'other') throw new NotARegularFileError(relative, 'EISDIR');
    await writeFileAtomic(this.resolve(relative), this.cipher.seal(bytes), options);
  }

  // The tree

  async rename(from: string, to: string): Promise<void> {
    await fs.promises.rename(this.resolve(from), this.resolve(to));
  }

  renameSync(from: string, to: string): void {
    fs.renameSync(this.resolve(from), this.resolve(to));
  }

  async remove(relative: string): Promise<void> {
    await fs.promises.rm(this.resolve(relative), { force: true });
  }

  removeSync(relative: string, options: { recursive?: boolean } = {}): void {
    fs.rmSync(this.resolve(relative), { force: true, recursive: options.recursive ?? false });
  }

  /** Removes what killed writes of `relative` left beside it (atomic-write.ts); returns how many. */
  removeLeftoverTemporaries(relative: string): number {
    return removeLeftoverTemporaries(this.resolve(relative));
  }

  async exists(relative: string): Promise<boolean> {
    try {
      await fs.promises.access(this.resolve(relative));
      return true;
    } catch {
      return false;
    }
  }

  existsSync(relative: string): boolean {
    return fs.existsSync(this.resolve(relative));
  }

  /** Sizes of a file, undefined when it is missing. */
  async stat(relative: string): Promise<DataFileStat | undefined> {
    try {
      return this.sizes(await fs.promises.stat(this.resolve(relative)));
    } catch {
      return undefined;
    }
  }

  /** stat() that rejects as fs.stat does (code ENOENT when the file is missing). */
  async statOrThrow(relative: string): Promise<DataFileStat> {
    return this.sizes(await fs.promises.stat(this.resolve(relative)));
  }

  statSync(relative: string): DataFileStat | undefined {
    try {
      return this.sizes(fs.statSync(this.resolve(relative)));
    } catch {
      return undefined;
    }
  }

  /** What `relative` is, without following a link: a regular file, something else, or nothing. */
  kind(relative: string): Promise<'file' | 'other' | 'none'> {
    this.resolve(relative);
    return lstatKind(this.root, relative);
  }

  /** Names in a folder; none when it is missing. */
  async list(dir: string): Promise<string[]> {
    try {
      return await fs.promises.readdir(this.folder(dir));
    } catch {
      return [];
    }
  }

  /**
   * How many entries a folder has, and the disk sizes of a sample of them: the first `statFirst` names, then every
   * `statEvery`-th. The names are read in batches (never a list of them all at once) and only the sample is
   * statted, so a folder of a million files costs its directory's reading, not a million stats on the event loop.
   * Zero entries when the folder is missing.
   */
  async sampleSizes(dir: string, { statFirst, statEvery }: { statFirst: number; statEvery: number }): Promise<FolderSample> {
    const sample: FolderSample = { entries: 0, statted: 0, files: 0, diskBytes: 0 };
    let opened: fs.Dir;
    try {
      opened = await fs.promises.opendir(this.folder(dir), { bufferSize: 1024 });
    } catch {
      return sample;
    }
    const batch: string[] = [];
    const statBatch = async () => {
      const sizes = await Promise.all(batch.map((name) => this.stat(`${dir}/${name}`)));
      batch.length = 0;
      for (const size of sizes) {
        sample.statted++;
        if (size && size.diskBytes > 0) {
          sample.files++;
          sample.diskBytes += size.diskBytes;
        }
      }
    };
    for await (const entry of opened) {
      if (sample.entries < statFirst || sample.entries % statEvery === 0) batch.push(entry.name);
      sample.entries++;
      if (batch.length >= 64) await statBatch();
    }
    await statBatch();
    return sample;
  }

  /** A folder's entries with what they are (links not followed: a link is neither); none when it is missing. */
  entriesSync(dir: string): Array<{ name: string; isFile: boolean; isDirectory: boolean }> {
    try {
      return fs.readdirSync(this.folder(dir), { withFileTypes: true }).map((d) => ({ name: d.name, isFile: d.isFile(), isDirectory: d.isDirectory() }));
    } catch {
      return [];
    }
  }

  listSync(dir: string): string[] {
    try {
      return fs.readdirSync(this.folder(dir));
    } catch {
      return [];
    }
  }

  /** Makes a folder and its parents (0700); returns the first one made (fs.mkdir's answer). */
  async mkdirp(dir: string): Promise<string | undefined> {
    return fs.promises.mkdir(this.folder(dir), { recursive: true, mode: DIRECTORY_MODE });
  }

  mkdirpSync(dir: string): void {
    fs.mkdirSync(this.folder(dir), { recursive: true, mode: DIRECTORY_MODE });
  }

  /** Makes the renames into `dir` survive a power cut. */
  syncDir(dir: string): Promise<void> {
    return syncDirectoryAsync(this.folder(dir));
  }

  /**
   * syncDir for a folder synced again and again (screenshots/incoming, once for each group of uploads): its
   * descriptor stays open between syncs. A filesystem that cannot fsync a folder is left as it is, as syncDir does.
   */
  keptDirSync(dir: string): { sync(): Promise<void>; close(): void } {
    const folder = new KeptFsync(this.folder(dir));
    return {
      sync: () =>
        folder.sync().catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'EINVAL' || error.code === 'ENOTSUP' || error.code === 'EISDIR') return;
          throw error;
        }),
      close: () => folder.close(),
    };
  }

  private folder(dir: string): string {
    return dir === '' || dir === '.' ? this.root : this.resolve(dir);
  }

  private sizes(stat: fs.Stats): DataFileStat {
    return { diskBytes: stat.size, plainBytes: this.cipher.plainSize(stat.size), modifiedMs: stat.mtimeMs };
  }
}

/** Files created ahead of need (DataDir.newFileReserve). */
export interface FileWriterReserve {
  /** A new file's writer and its path relative to the data dir; one from the reserve when ready. */
  take(): Promise<{ relative: string; writer: SealedFileWriter }>;
  /** Closes and removes the files not handed out. */
  close(): Promise<void>;
}

/**
 * A new file (0600, never an existing one) written piece by piece through the cipher's sealer, with synchronous
 * writes: a 64 KB write into the page cache costs microseconds, while an async write waits for a libuv thread. No
 * stream sits between (its ticks and events cost an encrypted upload about 1 ms of the event loop). write() throws
 * the write error (ENOSPC...); finish() writes the last sealed chunk and fsyncs the file off the event loop; close()
 * gives up (the caller removes the file).
 */
export class SealedFileWriter {
  private fd: number | undefined;

  constructor(
    readonly path: string,
    fd: number,
    /** null: the plain cipher, whose bytes go to the file as they are. */
    private readonly sealer: ChunkSealer | null,
  ) {
    this.fd = fd;
  }

  write(pieces: Buffer[]): void {
    if (this.sealer === null) {
      this.writeAll(pieces);
      return;
    }
    const sealed: Buffer[] = [];
    for (const piece of pieces) sealed.push(...this.sealer.push(piece));
    this.writeAll(sealed);
  }

  async finish(options: { durable: boolean }): Promise<void> {
    try {
      if (this.sealer !== null) this.writeAll(this.sealer.end());
      if (options.durable && this.fd !== undefined) {
        const fd = this.fd;
        await new Promise<void>((resolve, reject) => fs.fsync(fd, (error) => (error ? reject(error) : resolve())));
      }
    } finally {
      this.close();
    }
  }

  /** Closes the descriptor (any number of times); throws a close error. */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    this.sealer?.destroy();
    fs.closeSync(fd);
  }

  private writeAll(pieces: Buffer[]): void {
    if (this.fd === undefined) return;
    // writev takes at most IOV_MAX (1024 on Linux) pieces.
    let left = pieces.length > 512 ? [Buffer.concat(pieces)] : pieces;
    while (left.length > 0) {
      let written = fs.writevSync(this.fd, left);
      const rest: Buffer[] = [];
      for (const piece of left) {
        if (written >= piece.length) written -= piece.length;
        else {
          rest.push(written === 0 ? piece : piece.subarray(written));
          written = 0;
        }
      }
      left = rest;
    }
  }
}

/**
 * Relays `inner` (a cipher's open stream) with backpressure, and tells (`started`) when its first piece of
 * plaintext (or its end) arrived, or the error that came before it. An error after that errors this stream.
 */
class Relay extends Readable {
  readonly started: Promise<void>;
  private begun = false;
  private wanted = true;
  private settle!: (error?: Error) => void;

  constructor(private readonly inner: Readable) {
    super();
    this.started = new Promise<void>((resolve, reject) => {
      this.settle = (error) => {
        if (this.begun) return;
        this.begun = true;
        if (error) reject(error);
        else resolve();
      };
    });
    inner.on('readable', () => this.pump());
    inner.once('end', () => {
      this.settle();
      this.push(null);
    });
    inner.once('error', (error) => {
      if (this.begun) this.destroy(error);
      else this.settle(error);
    });
  }

  override _read(): void {
    this.wanted = true;
    this.pump();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.inner.destroy();
    done(error);
  }

  private pump(): void {
    while (this.wanted) {
      const piece = this.inner.read() as Buffer | null;
      if (piece === null) return;
      this.settle();
      this.wanted = this.push(piece);
    }
  }
}
