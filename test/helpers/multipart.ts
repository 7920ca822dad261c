import assert from 'node:assert/strict';
import { assertOnlyTheReserveLeft, incomingUploads } from './upload-reserve.js';

/** Hand-built multipart bodies, for requests a well-behaved client would never send. */
export type Part = { name: string; value: string | Buffer; filename?: string; type?: string };

export interface RawBody {
  body: Buffer;
  contentType: string;
}

export function multipart(parts: Part[], boundary = 'XyZboundary42'): RawBody {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.type ? `Content-Type: ${part.type}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** POSTs a raw body to /upload and returns the status and parsed JSON answer. */
export async function postRaw(api: string, raw: RawBody): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${api}/upload`, { method: 'POST', body: new Uint8Array(raw.body), headers: { 'content-type': raw.contentType } });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

interface ServerUnderTest {
  dataDir: string;
  db: { prepare(sql: string): { pluck(): { get(): unknown } } };
  /** POST /api/upload with this body (over HTTP, or through inject). */
  postUpload(raw: RawBody): Promise<{ status: number; body: Record<string, any> }>;
  request(options: { url: string }): Promise<{ status: number }>;
}

/**
 * Sends a malformed upload and checks the server's whole answer to it: the expected 4xx with a message naming
 * the problem, no row, no file, and the server still serving.
 */
export async function assertRefusedCleanly(server: ServerUnderTest, raw: RawBody, status: number, message: RegExp): Promise<void> {
  const rowCount = () => server.db.prepare('SELECT count(*) FROM entries').pluck().get() as number;
  const incomingFiles = () => incomingUploads(server.dataDir);
  const rows = rowCount();
  const files = incomingFiles();
  const response = await server.postUpload(raw);
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.match(String(response.body.message), message);
  assert.equal(typeof response.body.error, 'string');
  assert.equal(rowCount(), rows, 'no row written');
  assert.deepEqual(incomingFiles(), files, 'no file written');
  await assertOnlyTheReserveLeft(server.dataDir);
  assert.equal((await server.request({ url: '/api/health' })).status, 200, 'server keeps serving');
}
