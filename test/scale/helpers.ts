import net from 'node:net';
import path from 'node:path';
import { FrameBuffer, type FrameMeta } from '../../src/client/buffer.js';
import { newCaptureId } from '../../src/client/client.js';
import { Uploader } from '../../src/client/uploader.js';
import { renderTextImage } from '../helpers/images.js';
import { queryDatabase } from '../helpers/postgres.js';
import { runCli, type CliProcess, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Environment of every process of a scaled-out deployment: one database, one shared data dir. */
export function deploymentEnv(databaseUrl: string, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OPENRECALL_DATABASE_URL: databaseUrl,
    OPENRECALL_DATA_DIR: dataDir,
    OPENRECALL_PORT: '0',
    OPENRECALL_WORKERS: '1',
    OPENRECALL_LEASE_SECONDS: '3',
    OPENRECALL_COMPACT_AFTER_MINUTES: '100000',
    ...extra,
  };
}

export const startServer = (env: Record<string, string>, args: string[] = []): Promise<ServerProcess> =>
  startServerProcess(env.OPENRECALL_DATA_DIR!, env, args);

export async function startWorker(env: Record<string, string>): Promise<CliProcess> {
  const cli = runCli(['worker'], env);
  await cli.waitFor(/worker \S+ ready/, 90_000);
  return cli;
}

/** A frame whose OCR text holds a word of its own, so a search proves that this very frame was read. */
export async function textFrame(i: number): Promise<{ word: string; image: Buffer }> {
  const word = `marker${String(i).padStart(3, '0')}x`;
  const image = await renderTextImage([`Frame ${word} of the fault test`, 'The quick brown fox jumps over the lazy dog'], {
    width: 800,
    height: 300,
    seed: i + 1,
  });
  return { word, image };
}

/** The real capture client's buffer and uploader (backoff, Retry-After), fed with frames instead of screenshots. */
export function captureClient(apiUrl: string) {
  const log: string[] = [];
  const buffer = new FrameBuffer(path.join(tempDir(), 'buffer'), 200 * 1024 * 1024, (m) => log.push(m));
  buffer.open();
  const uploader = new Uploader(buffer, { apiUrl, timeoutMs: 5000, backoffInitialMs: 200, backoffMaxMs: 2000, log: (m) => log.push(m) });
  uploader.start();
  let ms = Date.now() - 3_600_000;
  return {
    buffer,
    uploader,
    log,
    add(image: Buffer, title: string): string {
      ms += 1000;
      const meta: FrameMeta = { captureId: newCaptureId(ms, 0), timestamp: ms / 1000, app: 'Notes', title, monitor: 0, contentType: 'image/png' };
      if (!buffer.write(meta, image)) throw new Error('the client buffer refused a frame');
      return meta.captureId;
    },
  };
}

/** Rows as PostgreSQL holds them (test-side check of "every frame COMPLETED exactly once"). */
export function entryRows(url: string) {
  return queryDatabase<{ id: number; capture_id: string; status: string; attempts: number; text: string | null }>(
    url,
    'SELECT id::int AS id, capture_id, status, attempts, text FROM entries ORDER BY id',
  );
}

/**
 * A TCP round-robin balancer in front of several servers (what nginx or HAProxy would be): a connection goes
 * to the next backend that accepts it.
 */
export async function startBalancer(backends: () => string[]): Promise<{ url: string; close(): void }> {
  let next = 0;
  const server = net.createServer((socket) => {
    const targets = backends();
    const tryConnect = (left: number) => {
      if (left === 0) return socket.destroy();
      const target = new URL(targets[next++ % targets.length]!);
      const upstream = net.connect(Number(target.port), target.hostname);
      upstream.once('connect', () => {
        socket.pipe(upstream).pipe(socket);
        upstream.on('error', () => socket.destroy());
        socket.on('error', () => upstream.destroy());
      });
      upstream.once('error', () => {
        if (!upstream.readyState || upstream.connecting) tryConnect(left - 1);
      });
    };
    tryConnect(targets.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const dataDirFor = () => tempDir('openrecall-scale-');
