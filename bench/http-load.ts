import http from 'node:http';

let nextInstance = 0;

/**
 * A lean multipart load generator: the body is built once and only the fixed-width capture_id is patched
 * per request, so the measurement is of the server, not of the client's FormData encoding.
 */
export class UploadLoad {
  private readonly agent: http.Agent;
  private readonly template: Buffer;
  private readonly idOffset: number;
  private readonly boundary = 'BenchBoundary7MA4YWxkTrZu0gW';
  private sequence = 0;
  /** Distinct per instance, so several loads in one process never send the same capture_id. */
  private readonly tag = `b${process.pid % 100_000}-${nextInstance++}-`;

  constructor(
    private readonly url: URL,
    image: Buffer,
    connections: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections });
    const part = (name: string, value: string) => `--${this.boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const head =
      part('timestamp', String(Math.floor(Date.now() / 1000))) +
      part('active_app', 'bench') +
      part('active_window', 'ingest benchmark') +
      `--${this.boundary}\r\nContent-Disposition: form-data; name="capture_id"\r\n\r\n`;
    const middle = `\r\n--${this.boundary}\r\nContent-Disposition: form-data; name="image"; filename="frame.png"\r\nContent-Type: image/png\r\n\r\n`;
    const tail = `\r\n--${this.boundary}--\r\n`;
    this.idOffset = Buffer.byteLength(head);
    this.template = Buffer.concat([Buffer.from(head), Buffer.from('0'.repeat(24)), Buffer.from(middle), image, Buffer.from(tail)]);
  }

  /** Sends one upload; resolves with the status and the wall time in ms. */
  send(): Promise<{ status: number; ms: number; body: string }> {
    const body = Buffer.from(this.template);
    body.write(`${this.tag}${(this.sequence++).toString().padStart(10, '0')}`.padEnd(24, 'x').slice(0, 24), this.idOffset, 'latin1');
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const request = http.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': `multipart/form-data; boundary=${this.boundary}`, 'content-length': body.length },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, ms: performance.now() - started, body: Buffer.concat(chunks).toString() }));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
