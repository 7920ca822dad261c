import { compactedReader } from './compaction/frame-reader.js';
import { isCompactedPath } from './compaction/manifest.js';
import type { ImageStore } from './image-store.js';

/**
 * The data dir's files as the processing stages use them (paths relative to the data dir). A worker with the
 * data dir mounted uses it directly; one without goes through the server's HTTP API (api-client/).
 */
export interface FrameFiles {
  /** A frame's image bytes; a compacted frame is rebuilt as PNG. Rejects with code ENOENT when it is gone. */
  readFrame(relative: string): Promise<Buffer>;
  /**
   * Writes frame `frameId`'s processed image or thumbnail so that a crash leaves the whole file or nothing, and
   * durably (file and folder fsynced) before it resolves: the original upload is removed right after.
   */
  writeAtomic(relative: string, bytes: Buffer, frameId: number): Promise<void>;
  /** Removes the upload frame `frameId` was processed from. */
  remove(relative: string | null, frameId: number): Promise<void>;
  isIncoming(relative: string | null): boolean;
  storedPath(id: number, timestamp: number): string;
  thumbnailPath(id: number): string;
}

/** The mounted data dir. */
export class LocalFrameFiles implements FrameFiles {
  constructor(readonly images: ImageStore) {}

  readFrame(relative: string): Promise<Buffer> {
    return isCompactedPath(relative) ? compactedReader(this.images).png(relative) : this.images.read(relative);
  }

  writeAtomic(relative: string, bytes: Buffer): Promise<void> {
    // The frame's lease makes this the only writer: a temporary a killed attempt left is reused, not leaked.
    return this.images.writeAtomic(relative, bytes, { durable: true, singleWriter: true });
  }

  remove(relative: string | null, _frameId: number): Promise<void> {
    return this.images.remove(relative);
  }

  isIncoming(relative: string | null): boolean {
    return this.images.isIncoming(relative);
  }

  storedPath(id: number, timestamp: number): string {
    return this.images.storedPath(id, timestamp);
  }

  thumbnailPath(id: number): string {
    return this.images.thumbnailPath(id);
  }
}
