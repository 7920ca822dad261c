import type { FrameFiles } from '../images/frame-files.js';
import { isIncomingPath, storedFramePath, thumbnailFramePath } from '../images/frame-paths.js';
import { bearer } from './auth.js';
import { ApiClientError } from './client.js';

const TIMEOUT_MS = 60_000;

/**
 * The data dir's frame files through a server's HTTP API (/api/worker/files), for a worker on a machine that
 * does not mount the data dir. Paths are the ones frame rows store.
 */
export class RemoteFrameFiles implements FrameFiles {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  async readFrame(relative: string): Promise<Buffer> {
    const response = await this.call('GET', relative);
    if (response.status === 404) throw Object.assign(new Error(`${relative} not found on the server`), { code: 'ENOENT' });
    const bytes = Buffer.from(await response.arrayBuffer());
    if (!response.ok) this.fail(response, bytes.toString('utf8'), `reading ${relative}`);
    return bytes;
  }

  async writeAtomic(relative: string, bytes: Buffer): Promise<void> {
    await this.ensureOk(await this.call('PUT', relative, bytes), `storing ${relative}`);
  }

  async remove(relative: string | null): Promise<void> {
    if (relative) await this.ensureOk(await this.call('DELETE', relative), `removing ${relative}`);
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

  private async call(method: 'GET' | 'PUT' | 'DELETE', relative: string, body?: Buffer): Promise<Response> {
    const url = `${this.baseUrl}/worker/files?${new URLSearchParams({ path: relative })}`;
    try {
      return await fetch(url, {
        method,
        headers: { ...bearer(this.token), ...(body ? { 'content-type': 'application/octet-stream' } : {}) },
        ...(body ? { body: new Uint8Array(body) } : {}),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new ApiClientError('unreachable', `no server answering at ${this.baseUrl} (${String((error as Error).cause ?? (error as Error).message)})`);
    }
  }

  private async ensureOk(response: Response, what: string): Promise<void> {
    const text = await response.text();
    if (!response.ok) this.fail(response, text, what);
  }

  private fail(response: Response, text: string, what: string): never {
    const kind = response.status === 401 || response.status === 403 ? 'unauthorized' : 'http';
    throw new ApiClientError(kind, `${what}: the server at ${this.baseUrl} answered ${response.status} ${text.slice(0, 200)}`, response.status);
  }
}
