import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { uploadFrame } from '../../src/api-client/upload.js';
import { backoffDelay, classify } from '../../src/client/uploader.js';
import { getJson, waitUntil } from '../helpers/api.js';
import { renderTextImage } from '../helpers/images.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { listFilesRecursive, tempDir } from '../helpers/temp-dir.js';
import { WORDS } from '../helpers/words.js';
import { freePort } from '../helpers/free-port.js';
import { readRows } from './helpers.js';
import { incomingUploads } from '../helpers/upload-reserve.js';

const KILLS = 5;

const servers: ServerProcess[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
});

/**
 * Uploads frames one after another, each until the server has it (202, or 200 when an earlier try was stored
 * but its answer lost): the capture client's rules (classify, backoff), through its HTTP code.
 */
class Loader {
  readonly delivered = new Map<string, number>(); // capture_id -> status that ended its retries
  readonly rejected: string[] = [];
  sent = 0;
  connectionErrors = 0;
  private stopped = false;
  private done: Promise<void> | undefined;

  constructor(
    private readonly api: string,
    /** The i-th frame to send (rendered on demand: the load lasts as long as the test needs it). */
    private readonly frame: (i: number) => Promise<{ captureId: string; image: Buffer; timestamp: number }>,
    private readonly paceMs: number,
  ) {}

  start(): void {
    this.done = this.run();
  }

  /** Finishes the frame in hand (so every frame sent is delivered), then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async run(): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const frame = await this.frame(i);
      this.sent++;
      for (let attempt = 0; ; attempt++) {
        let verdict;
        let status = 0;
        try {
          const response = await uploadFrame(
            this.api,
            { image: frame.image, contentType: 'image/png', timestamp: frame.timestamp, app: 'Crash', title: 'crash loop', captureId: frame.captureId },
            { timeoutMs: 10_000 },
          );
          status = response.status;
          verdict = classify(response);
        } catch {
          this.connectionErrors++;
          verdict = { kind: 'retry' as const, reason: 'unreachable' };
        }
        if (verdict.kind === 'delivered') {
          this.delivered.set(frame.captureId, status);
          break;
        }
        if (verdict.kind === 'reject') {
          this.rejected.push(`${frame.captureId}: ${verdict.reason}`);
          break;
        }
        await new Promise((r) => setTimeout(r, backoffDelay(attempt, 50, 500)));
      }
      await new Promise((r) => setTimeout(r, this.paceMs));
    }
  }
}

describe('kill -9 under load', () => {
  it(`loses and doubles nothing across ${KILLS} SIGKILLs mid-processing while a client keeps uploading`, async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const env = { OPENRECALL_PORT: String(port), OPENRECALL_WORKERS: '1', OPENRECALL_OCR_ENGINE: 'tesseract-js' };
    const frame = async (i: number) => {
      const marker = WORDS[(i * 7) % WORDS.length]!;
      const image = await renderTextImage([`frame ${marker}`], { width: 360, height: 130, fontSize: 22, seed: i + 1 });
      return { captureId: `crash-${String(i).padStart(4, '0')}-${marker}`, image, timestamp: 1_760_000_000 + i };
    };
    const loader = new Loader(`http://127.0.0.1:${port}/api`, frame, 250);

    let interrupted = 0;
    let server = await startServerProcess(dataDir, env);
    servers.push(server);
    loader.start();
    for (let kill = 1; kill <= KILLS; kill++) {
      // Each server life takes some of the load before it is killed.
      const deliveredBefore = loader.delivered.size;
      await waitUntil(() => loader.delivered.size >= deliveredBefore + 3, { what: `uploads before kill ${kill}`, timeoutMs: 120_000 });
      await waitUntil(
        async () => {
          const status = await getJson(`${server.api}/queue/status`).catch(() => undefined);
          return (status?.body.queue.processing ?? 0) >= 1;
        },
        { what: `a frame in processing before kill ${kill}`, timeoutMs: 120_000, intervalMs: 20 },
      );
      server.child.kill('SIGKILL');
      await server.exited;
      await waitUntil(() => server.child.exitCode !== null || server.child.signalCode !== null, { what: 'exit' });
      interrupted += readRows(dataDir).filter((r) => r.status === 'PROCESSING').length;
      server = await startServerProcess(dataDir, env);
      servers.push(server);
    }
    // Some more load on the last server, then drain.
    const sentBefore = loader.sent;
    await waitUntil(() => loader.sent >= sentBefore + 3, { what: 'a few more uploads', timeoutMs: 60_000 });
    await loader.stop();
    await waitUntil(
      async () => {
        const { queue } = (await getJson(`${server.api}/queue/status`)).body;
        return queue.pending === 0 && queue.processing === 0;
      },
      { what: 'the queue drained', timeoutMs: 180_000, intervalMs: 250 },
    );
    await server.stop();

    assert.ok(interrupted >= 1, 'at least one kill landed while a frame was PROCESSING');
    assert.deepEqual(loader.rejected, []);
    assert.ok(loader.delivered.size >= 3 * KILLS, `${loader.delivered.size} frames delivered`);
    const rows = readRows(dataDir);
    const byCapture = new Map<string, number>();
    for (const row of rows) byCapture.set(row.capture_id!, (byCapture.get(row.capture_id!) ?? 0) + 1);
    for (const [captureId] of loader.delivered) {
      assert.equal(byCapture.get(captureId), 1, `${captureId} stored exactly once`);
    }
    // Nothing stored that the client did not deliver: a frame stored whose answer was lost was retried to a 200.
    assert.deepEqual(
      [...byCapture.keys()].filter((id) => !loader.delivered.has(id)),
      [],
    );
    const notDone = rows.filter((r) => r.status !== 'COMPLETED');
    assert.deepEqual(
      notDone.map((r) => `${r.capture_id}: ${r.status} ${r.last_error}`),
      [],
      'every frame COMPLETED, none stuck or failed',
    );
    for (const row of rows) {
      const marker = row.capture_id!.split('-')[2]!;
      assert.match(row.text ?? '', new RegExp(marker, 'i'), `OCR text of ${row.capture_id}`);
    }
    assert.deepEqual(incomingUploads(dataDir), []);
    assert.equal(listFilesRecursive(path.join(dataDir, 'thumbnails')).length, rows.length);
    const duplicates = [...loader.delivered.values()].filter((s) => s === 200).length;
    console.log(
      `crash loop: ${loader.delivered.size} frames delivered (${duplicates} as duplicates after a lost answer), ${loader.connectionErrors} connection errors retried, ${interrupted} frame(s) interrupted mid-processing by ${KILLS} kills`,
    );
  });
});
