import crypto from 'node:crypto';
import { ApiClient } from '../api-client/client.js';
import { encodeCapture } from '../images/codec.js';
import type { Logger } from '../log.js';
import type { FileCipher } from '../files/file-cipher.js';
import { openDataDir } from '../files/open-data-dir.js';
import { plainCipher } from '../files/plain-cipher.js';
import { FrameBuffer } from './buffer.js';
import { createIdleSource, type IdleSource } from './capture/idle.js';
import { NodeScreenshotsSource, primaryMonitor, type MonitorInfo, type RawFrame, type ScreenSource } from './capture/screen.js';
import { createWindowInfo, type ActiveWindow, type WindowInfoSource } from './capture/window-info.js';
import { systemClock, type Clock } from './clock.js';
import type { ClientConfig } from './config.js';
import type { DisplayKind } from './display.js';
import { ControlServer, controlSocketPath, readPausedFlag, writePausedFlag, type ControlCommand } from './control.js';
import { Heartbeat } from './heartbeat.js';
import { exclusionFor } from './privacy.js';
import { keepDecision, type KeptFrame } from './keep-rule.js';
import { greyThumbnail, type GreyImage } from './similarity.js';
import { Uploader } from './uploader.js';

export interface ClientDeps {
  screen: ScreenSource;
  windows: WindowInfoSource;
  idle: IdleSource;
  clock: Clock;
}

/** The real screen, window and idle sources for this session's backend (see display.ts). */
export async function realDeps(env: Record<string, string | undefined>, log: Logger, kind: DisplayKind, config: ClientConfig): Promise<ClientDeps> {
  if (kind === 'wlroots') {
    const { compositorIpc, GrimScreenSource, WlrootsWindowInfo } = await import('./capture/wlroots.js');
    const { LogindIdle } = await import('./capture/logind-idle.js');
    const ipc = compositorIpc(env);
    return { screen: new GrimScreenSource(env, ipc), windows: new WlrootsWindowInfo(ipc, log), idle: new LogindIdle(env), clock: systemClock };
  }
  if (kind === 'portal') {
    const { PortalScreenSource, portalWindowInfo } = await import('./capture/portal.js');
    const { LogindIdle } = await import('./capture/logind-idle.js');
    return { screen: new PortalScreenSource(env, config, log), windows: portalWindowInfo(env, log), idle: new LogindIdle(env), clock: systemClock };
  }
  return { screen: new NodeScreenshotsSource(), windows: createWindowInfo(env, log), idle: createIdleSource(env), clock: systemClock };
}

/** `<ms since epoch, base36, 9 chars>-<monitor>-<random>`: sorts by capture time, unique across machines. */
export function newCaptureId(ms: number, monitor: number): string {
  return `${Math.floor(ms).toString(36).padStart(9, '0')}-${monitor}-${crypto.randomBytes(5).toString('hex')}`;
}

export type CaptureState = 'starting' | 'capturing' | 'paused' | 'idle' | 'locked' | 'excluded' | 'no-monitor' | 'stopped';

export interface EncodedImage {
  bytes: Buffer;
  contentType: string;
}

export async function encodeFrame(frame: RawFrame, format: 'webp' | 'png'): Promise<EncodedImage> {
  return { bytes: await encodeCapture(frame, format), contentType: format === 'png' ? 'image/png' : 'image/webp' };
}

/**
 * The capture client: every interval, unless paused, idle, locked or looking at an excluded window, captures
 * the monitor(s), keeps the frames that changed, writes them to the crash-safe buffer and lets the uploader
 * deliver them.
 */
export class CaptureClient {
  readonly buffer: FrameBuffer;
  private readonly uploader: Uploader;
  private readonly control: ControlServer;
  private readonly heartbeat: Heartbeat;
  private readonly lastKept = new Map<string, KeptFrame>();
  /** No input for the idle time (the screen may still change: then frames are still kept). */
  private inputIdle = false;
  private idleAnnounced = false;
  private knownMonitors = '';
  private pausedSince: Date | undefined;
  private state: CaptureState = 'starting';
  private stateDetail = '';
  private readonly stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private lastCaptureId = 0;
  private warnedIdle = false;
  private warnedWindow = false;
  private lastCaptureError = '';
  private readonly counters = { captured: 0, skippedSimilar: 0, skippedExcluded: 0, skippedIdle: 0, skippedPaused: 0, captureErrors: 0 };
  private readonly startedAt = new Date();

  constructor(
    private readonly config: ClientConfig,
    private readonly deps: ClientDeps,
    private readonly log: Logger,
    /** The buffer's cipher: openBufferCipher's (buffer-cipher.ts) when OPENRECALL_ENCRYPTION is on. */
    bufferCipher: FileCipher = plainCipher,
  ) {
    this.buffer = new FrameBuffer(openDataDir(config.bufferDir, bufferCipher), config.bufferMaxBytes, log, config.testWriteDelayMs);
    this.uploader = new Uploader(this.buffer, {
      apiUrl: config.apiUrl,
      ...(config.apiToken !== undefined ? { token: config.apiToken } : {}),
      timeoutMs: config.uploadTimeoutMs,
      backoffInitialMs: config.backoffInitialMs,
      backoffMaxMs: config.backoffMaxMs,
      clock: deps.clock,
      log,
    });
    this.control = new ControlServer(controlSocketPath(config.dataDir), (command) => this.onControl(command));
    this.heartbeat = new Heartbeat(
      {
        api: new ApiClient(config.apiUrl, config.apiToken !== undefined ? { token: config.apiToken } : {}),
        dataDir: config.dataDir,
        intervalMs: config.heartbeatMs,
        clock: deps.clock,
        log,
      },
      {
        isPaused: () => !!this.pausedSince,
        state: () => this.state,
        buffer: () => this.buffer.stats(),
        pause: (reason) => this.pause(reason),
        resume: (reason) => this.resume(reason),
        holdUploads: (held) => this.uploader.hold(held),
      },
    );
  }

  async start(): Promise<void> {
    // The control socket first: it is also the single-instance check, and a second client must not touch
    // the buffer (it would quarantine the first one's write in progress).
    await this.control.listen();
    try {
      this.buffer.open();
    } catch (error) {
      await this.control.close();
      throw error;
    }
    this.pausedSince = readPausedFlag(this.config.dataDir);
    const monitors = this.config.primaryMonitorOnly ? 'primary monitor' : 'all monitors';
    this.log(
      `capturing the ${monitors} every ${this.config.captureIntervalMs / 1000} s to ${this.config.apiUrl} ` +
        `(buffer ${this.config.bufferDir}, cap ${Math.round(this.config.bufferMaxBytes / 1024 / 1024)} MB; ` +
        `${this.config.privacy.excludeApps.length} app and ${this.config.privacy.excludeTitles.length} title exclusion rules)`,
    );
    if (this.pausedSince) this.log(`paused since ${this.pausedSince.toISOString()} (run "openrecall resume" to capture again)`);
    this.uploader.start();
    this.heartbeat.start();
    this.loop = this.run();
  }

  /** Stops capturing and uploading; frames not yet sent stay in the buffer for the next start. */
  async stop(): Promise<void> {
    if (this.stopController.signal.aborted) return;
    this.stopController.abort();
    await this.loop;
    await this.heartbeat.stop();
    await this.uploader.stop();
    await this.control.close();
    this.deps.windows.close();
    this.deps.idle.close();
    this.deps.screen.close?.();
    this.setState('stopped');
    const { items } = this.buffer.stats();
    this.log(`stopped; ${items} frame(s) left in the buffer${items ? ' for the next start' : ''}`);
  }

  pause(reason = 'paused by the user'): void {
    if (this.pausedSince) return;
    this.pausedSince = new Date();
    writePausedFlag(this.config.dataDir, this.pausedSince);
    this.log(`${reason}: no capture until "openrecall resume" or a resume from the web UI`);
    this.setState('paused');
  }

  resume(reason = 'resumed by the user'): void {
    if (!this.pausedSince) return;
    this.pausedSince = undefined;
    writePausedFlag(this.config.dataDir, undefined);
    this.log(`${reason}: capturing again`);
    this.setState('capturing');
  }

  status(): Record<string, unknown> {
    return {
      pid: process.pid,
      started_at: this.startedAt.toISOString(),
      state: this.state,
      ...(this.stateDetail ? { state_detail: this.stateDetail } : {}),
      paused: !!this.pausedSince,
      ...(this.pausedSince ? { paused_since: this.pausedSince.toISOString() } : {}),
      api_url: this.config.apiUrl,
      capture_interval_seconds: this.config.captureIntervalMs / 1000,
      frames: { ...this.counters },
      buffer: this.buffer.stats(),
      uploader: this.uploader.status(),
    };
  }

  private onControl(command: ControlCommand): Record<string, unknown> {
    if (command === 'pause') this.pause();
    else if (command === 'resume') this.resume();
    return this.status();
  }

  private setState(state: CaptureState, detail = ''): void {
    if (state === this.state && detail === this.stateDetail) return;
    const previous = this.state;
    this.state = state;
    this.stateDetail = detail;
    if (state === 'idle') {
      // Said once per stretch without input, not again between two changes of a screen nobody touches.
      if (!this.idleAnnounced) this.log('user idle and screen unchanged: keeping only frames that change');
      this.idleAnnounced = true;
    } else if (state === 'locked') this.log('screen locked or screen saver on: not capturing');
    else if (state === 'excluded') this.log(`excluded window (${detail}): not capturing it`);
    else if (state === 'no-monitor') this.log('no monitor found: waiting for one');
    else if (state === 'capturing' && previous !== 'starting' && previous !== 'paused' && !(previous === 'idle' && this.inputIdle)) this.log('capturing again');
  }

  private async run(): Promise<void> {
    const signal = this.stopController.signal;
    while (!signal.aborted) {
      const started = this.deps.clock.now();
      try {
        await this.tick();
      } catch (error) {
        this.counters.captureErrors++;
        const message = (error as Error).message;
        if (message !== this.lastCaptureError) this.log(`capture failed: ${message}`);
        this.lastCaptureError = message;
      }
      if (signal.aborted) break;
      await this.deps.clock.sleep(this.config.captureIntervalMs - (this.deps.clock.now() - started), signal);
    }
  }

  /** The active window; undefined when it cannot be read (then the exclusion rules cannot be applied). */
  private async activeWindow(): Promise<ActiveWindow | undefined> {
    try {
      const window = await this.deps.windows.active();
      if (this.warnedWindow) this.log('the active window can be read again');
      this.warnedWindow = false;
      return window;
    } catch (error) {
      if (!this.warnedWindow) this.log(`cannot read the active window (${(error as Error).message}): not capturing, as the exclusion rules cannot be checked`);
      this.warnedWindow = true;
      return undefined;
    }
  }

  /** One capture round. */
  async tick(): Promise<void> {
    if (this.pausedSince) {
      this.counters.skippedPaused++;
      this.setState('paused');
      return;
    }
    // Idle means no input AND an unchanged screen: a chat, a log or a call that changes while nobody types is
    // still captured. Only a locked screen stops capture outright.
    this.inputIdle = false;
    if (this.config.idleMs > 0) {
      try {
        const idle = await this.deps.idle.read();
        if (idle.locked) {
          this.counters.skippedIdle++;
          this.setState('locked');
          return;
        }
        this.inputIdle = idle.idleMs >= this.config.idleMs;
        if (!this.inputIdle) this.idleAnnounced = false;
      } catch (error) {
        if (!this.warnedIdle) this.log(`cannot tell whether the user is idle (${(error as Error).message}): capturing regardless`);
        this.warnedIdle = true;
      }
    }
    const window = await this.activeWindow();
    const excluded = window ? exclusionFor(window, this.config.privacy) : { rule: 'active window unknown' };
    if (!window || excluded) {
      this.counters.skippedExcluded++;
      this.setState('excluded', excluded?.rule ?? 'active window unknown');
      return;
    }

    const monitors = await this.deps.screen.monitors();
    this.trackMonitors(monitors);
    const chosen = this.config.primaryMonitorOnly ? [primaryMonitor(monitors)].filter((m): m is MonitorInfo => !!m) : monitors;
    if (chosen.length === 0) {
      this.setState('no-monitor');
      return;
    }

    const captureMs = this.deps.clock.now();
    const changed: Array<{ monitor: MonitorInfo; frame: RawFrame; grey: GreyImage }> = [];
    for (const monitor of chosen) {
      let frame: RawFrame;
      try {
        frame = await this.deps.screen.capture(monitor);
      } catch (error) {
        this.counters.captureErrors++;
        this.log(`could not capture monitor ${monitor.index} (${monitor.name}): ${(error as Error).message}`);
        continue;
      }
      const grey = greyThumbnail(frame.data, frame.width, frame.height);
      const decision = keepDecision(this.lastKept.get(monitor.key), { grey, app: window.app, title: window.title }, captureMs, {
        similarityThreshold: this.config.similarityThreshold,
        maxSkipMs: this.config.maxSkipMs,
        userIdle: this.inputIdle,
      });
      const c = decision.comparison;
      const figures = c ? ` (similarity ${c.similarity.toFixed(4)}: ${c.changedTiles} changed, ${c.ignoredTiles} cursor-sized of ${c.tiles} tiles)` : '';
      if (!decision.keep) {
        if (this.inputIdle) this.counters.skippedIdle++;
        else this.counters.skippedSimilar++;
        if (this.config.debug) this.log(`monitor ${monitor.index}: unchanged${figures}, skipped`);
        continue;
      }
      if (this.config.debug) this.log(`monitor ${monitor.index}: ${decision.reason}${figures}`);
      changed.push({ monitor, frame, grey });
    }
    if (changed.length === 0) {
      this.setState(this.inputIdle ? 'idle' : 'capturing');
      return;
    }
    this.setState('capturing');

    // The window may have switched while the screen was read: check again before anything is written.
    const after = await this.activeWindow();
    const excludedAfter = after ? exclusionFor(after, this.config.privacy) : { rule: 'active window unknown' };
    if (excludedAfter) {
      this.counters.skippedExcluded++;
      this.setState('excluded', excludedAfter.rule);
      return;
    }

    const ms = Math.max(captureMs, this.lastCaptureId + 1);
    this.lastCaptureId = ms;
    for (const { monitor, frame, grey } of changed) {
      const encoded = await encodeFrame(frame, this.config.imageFormat);
      const captureId = newCaptureId(ms, monitor.index);
      const written = this.buffer.write(
        { captureId, timestamp: ms / 1000, app: window.app, title: window.title, monitor: monitor.index, contentType: encoded.contentType },
        encoded.bytes,
      );
      if (!written) continue;
      this.lastKept.set(monitor.key, { grey, app: window.app, title: window.title, keptAtMs: captureMs });
      this.counters.captured++;
      if (this.config.debug) this.log(`monitor ${monitor.index}: kept ${captureId} (${encoded.bytes.length} bytes) "${window.app}"`);
    }
  }

  private trackMonitors(monitors: MonitorInfo[]): void {
    const signature = monitors.map((m) => m.key).join('|');
    if (signature === this.knownMonitors) return;
    const describe = monitors.map((m) => `${m.index}: ${m.name} ${m.width}x${m.height}${m.primary ? ' primary' : ''}`).join(', ');
    this.log(`${this.knownMonitors ? 'monitors changed' : 'monitors'}: ${monitors.length ? describe : 'none'}`);
    this.knownMonitors = signature;
    const present = new Set(monitors.map((m) => m.key));
    for (const key of this.lastKept.keys()) if (!present.has(key)) this.lastKept.delete(key);
  }
}
