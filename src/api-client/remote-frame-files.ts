import type { FrameFiles } from '../images/frame-files.js';
import { isIncomingPath, storedFramePath, thumbnailFramePath } from '../images/frame-paths.js';
import type { ApiClient } from './client.js';

/**
 * The data dir's frame files through a server's HTTP API (/api/worker/files), for a worker on a machine that
 * does not mount the data dir. Paths are the ones frame rows store. Writes name the frame and this worker's
 * id: the server accepts them only while this worker holds the frame's lease.
 */
export class RemoteFrameFiles implements FrameFiles {
  constructor(
    private readonly client: ApiClient,
    private readonly workerId: string,
  ) {}

  async readFrame(relative: string): Promise<Buffer> {
    const bytes = await this.client.readDataFile(relative);
    if (!bytes) throw Object.assign(new Error(`${relative} not found on the server`), { code: 'ENOENT' });
    return bytes;
  }

  writeAtomic(relative: string, bytes: Buffer, frameId: number): Promise<void> {
    return this.client.writeDataFile(frameId, relative, bytes, this.workerId);
  }

  async remove(relative: string | null, frameId: number): Promise<void> {
    if (relative) await this.client.removeDataFile(frameId, relative, this.workerId);
  }

  isIncoming(relative: string | null): boolean {
    return isIncomingPath(relative);
  }

  storedPath(id: number, timestamp: number): string {
    return storedFramePath(id, timestamp);
  }

  thumbnailPath(id: number): string {
    return thumbnailFramePath(id);
  }
}
