import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClientDirective } from '../api/index.js';
import { type ApiClient, ApiClientError } from '../api-client/client.js';
import type { Logger } from '../log.js';
import { VERSION } from '../version.js';
import type { Clock } from './clock.js';

/** What the heartbeat reads from and does to the capture client. */
export interface HeartbeatTarget {
  isPaused(): boolean;
  state(): string;
  buffer(): { bytes: number; items: number };
  pause(reason: string): void;
  resume(reason: string): void;
  /** Holds or releases uploads (upload_enabled). */
  holdUploads(held: boolean): void;
}

export interface HeartbeatOptions {
  /** The server's API (its URL and token). */
  api: ApiClient;
  dataDir: string;
  intervalMs: number;
  clock: Clock;
  log: Logger;
}

/** This client's id for the server: host name and a random part, made once and kept in the data dir. */
export function clientId(dataDir: string): string {
  const file = path.join(dataDir, 'client-id');
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (/^[\x21-\x7e]{1,128}$/.test(id)) return id;
  } catch {
    // made below
  }
  const host =
    os
      .hostname()
      .replace(/[^\x21-\x7e]/g, '')
      .slice(0, 64) || 'host';
  const id = `${host}-${crypto.randomBytes(4).toString('hex')}`;
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, id);
  return id;
}

/**
 * Every few seconds the client calls in (POST /api/heartbeat) with its state and buffer, and obeys the
 * server's answer: a pause or resume asked from the web UI. A directive is applied once (by its revision,
 * kept in `<data dir>/client-server-revision`), so `openrecall pause`/`resume` on this machine are not
 * overridden until the UI asks something new. A client meeting a server for the first time only takes a
 * pause from it, never a resume: a local pause stays until someone resumes on purpose. `upload_enabled` false
 * holds uploads (frames wait in the buffer) for as long as the server says so.
 */
export class Heartbeat {
  private readonly id: string;
  private readonly revisionFile: string;
  private readonly stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly options: HeartbeatOptions,
    private readonly target: HeartbeatTarget,
  ) {
    this.id = clientId(options.dataDir);
    this.revisionFile = path.join(options.dataDir, 'client-server-revision');
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.stopController.signal;
    while (!signal.aborted) {
      await this.beat().catch((error: unknown) => {
        if (!this.failing) this.options.log(`heartbeat failed (${(error as Error).message}); capture control from the server is unavailable until it works`);
        this.failing = true;
      });
      await this.options.clock.sleep(this.options.intervalMs, signal);
    }
  }

  /** One call: report, then apply what the server asks. */
  async beat(): Promise<void> {
    const buffer = this.target.buffer();
    const body = {
      client_id: this.id,
      host: os.hostname().slice(0, 255),
      version: VERSION,
      paused: this.target.isPaused(),
      state: this.target.state().slice(0, 32),
      buffer_bytes: buffer.bytes,
      buffer_items: buffer.items,
      heartbeat_seconds: this.options.intervalMs / 1000,
    };
    const { config } = await this.options.api
      .heartbeat(body, { timeoutMs: Math.max(5000, this.options.intervalMs), signal: this.stopController.signal })
      .catch((error: unknown) => {
        if (error instanceof ApiClientError && error.status === 404) throw new Error('the server has no /api/heartbeat (an older version)');
        throw error;
      });
    if (this.failing) this.options.log('heartbeat works again');
    this.failing = false;
    this.apply(config);
  }

  private apply(directive: ClientDirective): void {
    if (typeof directive?.recording_enabled !== 'boolean' || !Number.isInteger(directive.revision)) return;
    // A setting, not a request: applied at every heartbeat (not kept: after a restart, until the first heartbeat, uploads go on).
    if (typeof directive.upload_enabled === 'boolean') this.setUploadsHeld(!directive.upload_enabled);
    const applied = this.appliedRevision();
    if (directive.revision === 0 || directive.revision === applied) return;
    const paused = this.target.isPaused();
    if (!directive.recording_enabled && !paused) this.target.pause('paused from the server (web UI or /api/config)');
    if (directive.recording_enabled && paused && applied !== undefined) this.target.resume('resumed from the server (web UI or /api/config)');
    fs.writeFileSync(this.revisionFile, String(directive.revision));
  }

  private uploadsHeld = false;

  private setUploadsHeld(held: boolean): void {
    if (held === this.uploadsHeld) return;
    this.uploadsHeld = held;
    this.target.holdUploads(held);
    this.options.log(held ? 'uploads held by the server (upload_enabled is false): frames stay in the buffer' : 'uploads allowed again by the server');
  }

  private appliedRevision(): number | undefined {
    try {
      const value = Number(fs.readFileSync(this.revisionFile, 'utf8').trim());
      return Number.isInteger(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }
}
