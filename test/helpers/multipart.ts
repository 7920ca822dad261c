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
