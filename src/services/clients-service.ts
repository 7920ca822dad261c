import type { CaptureClient, ClientDirective, RuntimeConfig, RuntimeSettings } from '../api/index.js';
import { notFound } from '../errors.js';
import type { ClientReport, ClientRow, ClientsRepository } from '../store/ports.js';
import type { SettingsRepository } from '../store/ports.js';
import { parseSelfReport } from './myrecall-heartbeat.js';

export const RUNTIME_SETTING_KEYS = ['recording_enabled', 'upload_enabled', 'ai_processing_enabled', 'ui_show_ai'] as const;

/** A client is online when it called within three of its heartbeat periods (at least this long). */
const MIN_ONLINE_WINDOW_SECONDS = 15;
const DEFAULT_HEARTBEAT_SECONDS = 5;
/**
 * Heartbeats create client rows (any id a caller makes up): at most this many are kept, the least recently
 * seen going first, and a client silent this long is forgotten.
 */
export const MAX_CLIENTS = 200;
export const CLIENT_EXPIRY_SECONDS = 30 * 24 * 3600;

const now = () => Date.now() / 1000;

/** Capture control: runtime settings, clients' heartbeats, pause and resume per client or for all. */
export class ClientsService {
  constructor(
    private readonly clients: ClientsRepository,
    private readonly settings: SettingsRepository,
    private readonly defaults: RuntimeSettings,
  ) {}

  private async stored(): Promise<Stored> {
    const values: RuntimeSettings = { ...this.defaults };
    const revisions: Record<string, number> = {};
    for (const row of await this.settings.all()) {
      if (!(RUNTIME_SETTING_KEYS as readonly string[]).includes(row.key)) continue;
      const value = JSON.parse(row.value) as unknown;
      if (typeof value !== 'boolean') continue;
      values[row.key as keyof RuntimeSettings] = value;
      revisions[row.key] = row.revision;
    }
    return { values, revisions };
  }

  async runtimeSettings(): Promise<RuntimeSettings> {
    return (await this.stored()).values;
  }

  /** GET /api/config: the global settings, and whether any client called in recently. */
  async config(): Promise<RuntimeConfig> {
    return {
      ...(await this.runtimeSettings()),
      client_online: (await this.list()).some((c) => c.online),
      last_heartbeat: await this.clients.lastSeen(),
    };
  }

  async updateConfig(patch: Partial<RuntimeSettings>): Promise<RuntimeConfig> {
    const changes = Object.fromEntries(
      Object.entries(patch).filter(([key, value]) => (RUNTIME_SETTING_KEYS as readonly string[]).includes(key) && value !== undefined),
    );
    if (Object.keys(changes).length) await this.settings.set(changes);
    return this.config();
  }

  /** POST /api/heartbeat: records the client's report and answers what it should do. */
  async heartbeat(report: ClientReport): Promise<ClientDirective> {
    const at = now();
    const row = await this.clients.report(report, at);
    if (row.first_seen === row.last_seen) await this.clients.prune(MAX_CLIENTS, at - CLIENT_EXPIRY_SECONDS);
    return this.directiveFor(row);
  }

  async directiveFor(row: ClientRow | undefined): Promise<ClientDirective> {
    return directiveOf(row, await this.stored());
  }

  async list(): Promise<CaptureClient[]> {
    const at = now();
    const stored = await this.stored();
    const live = (await this.clients.list()).filter((row) => at - row.last_seen <= CLIENT_EXPIRY_SECONDS);
    return live.map((row) => {
      const directive = directiveOf(row, stored);
      const window = Math.max(MIN_ONLINE_WINDOW_SECONDS, 3 * (row.heartbeat_seconds ?? DEFAULT_HEARTBEAT_SECONDS));
      return {
        id: row.id,
        kind: row.kind,
        host: row.host,
        version: row.version,
        address: row.address,
        first_seen: row.first_seen,
        last_seen: row.last_seen,
        online: at - row.last_seen <= window,
        paused: row.paused === null ? !directive.recording_enabled : row.paused === 1,
        state: row.state,
        buffer_bytes: row.buffer_bytes,
        buffer_items: row.buffer_items,
        pause_requested: !directive.recording_enabled,
        obeys_server_pause: row.kind !== 'myrecall-v3',
        self_report: parseSelfReport(row.report),
      };
    });
  }

  /** Pause or resume one client; it obeys at its next heartbeat. */
  async setPaused(id: string, paused: boolean): Promise<CaptureClient> {
    if (!(await this.clients.desirePaused(id, paused, await this.settings.nextRevision()))) throw notFound(`capture client '${id.slice(0, 128)}'`);
    return (await this.list()).find((c) => c.id === id)!;
  }

  /** Pause or resume every client (the global recording_enabled, which the Python client obeys too). */
  async setAllPaused(paused: boolean): Promise<void> {
    await this.settings.set({ recording_enabled: !paused });
  }
}

interface Stored {
  values: RuntimeSettings;
  revisions: Record<string, number>;
}

/** What a client should do: its own pause when asked after the global switch, else the global settings. */
function directiveOf(row: ClientRow | undefined, { values, revisions }: Stored): ClientDirective {
  const globalRevision = revisions.recording_enabled ?? 0;
  const own = row && row.desired_revision !== null && row.desired_paused !== null && row.desired_revision > globalRevision;
  const recording = own ? row.desired_paused === 0 : values.recording_enabled;
  const revision = Math.max(0, ...Object.values(revisions), row?.desired_revision ?? 0);
  return { ...values, recording_enabled: recording, revision };
}
