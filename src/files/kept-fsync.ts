import fs from 'node:fs';

/**
 * fsync of one path through a descriptor kept open between calls. Opening and closing the file for every sync
 * cost two more thread-pool round trips each time, on the path of every upload's 202 (the WAL and the incoming
 * folder are synced for each group of uploads). The path is looked up on every call (a cached lookup, no disk
 * access): when it names another file than the one held (the WAL deleted and made again), the new one is opened.
 */
export class KeptFsync {
  private held: Held | undefined;

  constructor(
    readonly path: string,
    /**
     * fdatasync: the bytes, and the metadata needed to read them back (the size), but not the times. A file
     * overwritten in place (SQLite's WAL after a checkpoint) is then made durable without a journal commit.
     */
    private readonly dataOnly = false,
  ) {}

  /** Rejects as fs.open would (ENOENT when the path is missing) or as fsync would. */
  async sync(): Promise<void> {
    const now = fs.statSync(this.path);
    if (!this.held || this.held.ino !== now.ino || this.held.dev !== now.dev) {
      const fd = await new Promise<number>((resolve, reject) => fs.open(this.path, 'r', (error, opened) => (error ? reject(error) : resolve(opened))));
      this.close();
      this.held = { fd, dev: now.dev, ino: now.ino, syncing: 0, retired: false };
    }
    const held = this.held;
    held.syncing++;
    try {
      const sync = this.dataOnly ? fs.fdatasync : fs.fsync;
      await new Promise<void>((resolve, reject) => sync(held.fd, (error) => (error ? reject(error) : resolve())));
    } finally {
      held.syncing--;
      if (held.retired && held.syncing === 0) fs.close(held.fd, () => undefined);
    }
  }

  /** Lets the descriptor go (once the syncs using it are done: its number must not be reused under them). */
  close(): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    held.retired = true;
    if (held.syncing === 0) fs.close(held.fd, () => undefined);
  }
}

interface Held {
  fd: number;
  dev: number;
  ino: number;
  syncing: number;
  retired: boolean;
}
