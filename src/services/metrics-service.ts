import fs from 'node:fs';
import path from 'node:path';

/**
 * Prometheus metrics, kept in memory by the server process and written in the text exposition format
 * (version 0.0.4) by hand. Counters and histograms start at zero when the server starts, as Prometheus expects.
 */

type Labels = Record<string, string>;

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  return entries.length ? `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
}

const num = (value: number) => (Number.isFinite(value) ? String(value) : value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN');

/** Upper bounds in seconds: ingest takes milliseconds, OCR and AI stages take up to minutes. */
export const INGEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
export const STAGE_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(private readonly buckets: number[]) {}

  observe(seconds: number, labels: Labels = {}): void {
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (seconds <= this.buckets[i]!) s.counts[i]!++;
    s.sum += seconds;
    s.count++;
  }

  lines(name: string): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((le, i) => {
        out.push(`${name}_bucket${labelText({ ...s.labels, le: num(le) })} ${s.counts[i]}`);
      });
      out.push(`${name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`${name}_sum${labelText(s.labels)} ${num(s.sum)}`);
      out.push(`${name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  inc(labels: Labels = {}, by = 1): void {
    const key = JSON.stringify(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }

  lines(name: string): string[] {
    return [...this.values.values()].map((e) => `${name}${labelText(e.labels)} ${num(e.value)}`);
  }
}

export type UploadOutcome = 'accepted' | 'duplicate' | 'rejected' | 'busy' | 'storage_full' | 'unauthorized';

export interface MetricsSources {
  /** Frames by status, from the database. */
  frameCounts: () => Promise<Record<string, number>>;
  /** Bytes used by screenshots, thumbnails and the database. */
  storage: () => Promise<{ screenshots: number; thumbnails: number; database: number }>;
  /** Uploads being received or stored right now. */
  uploadsInFlight: () => number;
}

export class MetricsService {
  private readonly ingest = new Histogram(INGEST_BUCKETS);
  private readonly stages = new Histogram(STAGE_BUCKETS);
  private readonly stageFailures = new Counter();
  private readonly uploads = new Counter();
  private readonly clientBuffers = new Map<string, { bytes: number; at: number }>();

  constructor(private readonly sources: MetricsSources) {}

  /** Time from the upload's arrival to its answer (body received, checked, stored). */
  observeIngest(seconds: number): void {
    this.ingest.observe(seconds);
  }

  upload(outcome: UploadOutcome): void {
    this.uploads.inc({ outcome });
  }

  /** One run of a pipeline stage in the processor; a failed run also counts as a failure of that stage. */
  observeStage(stage: string, seconds: number, ok: boolean): void {
    this.stages.observe(seconds, { stage });
    if (!ok) this.stageFailures.inc({ stage });
  }

  /** The unsent-frame buffer a client reported with its last upload (clients are told apart by address). */
  clientBuffer(client: string, bytes: number): void {
    this.clientBuffers.set(client, { bytes, at: Date.now() });
    // Forget clients not heard of for a day.
    for (const [key, value] of this.clientBuffers) if (Date.now() - value.at > 86_400_000) this.clientBuffers.delete(key);
  }

  async render(): Promise<string> {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, lines: string[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    };
    const counts = await this.sources.frameCounts();
    metric(
      'openrecall_frames',
      'gauge',
      'Frames in the database by processing status.',
      ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'].map((s) => `openrecall_frames{status="${s}"} ${counts[s.toLowerCase()] ?? 0}`),
    );
    metric(
      'openrecall_ingest_duration_seconds',
      'histogram',
      'Time to receive, check and store an upload (answered 202).',
      this.ingest.lines('openrecall_ingest_duration_seconds'),
    );
    metric('openrecall_uploads_total', 'counter', 'Upload requests by outcome.', this.uploads.lines('openrecall_uploads_total'));
    metric('openrecall_uploads_in_flight', 'gauge', 'Uploads being received or stored now.', [
      `openrecall_uploads_in_flight ${this.sources.uploadsInFlight()}`,
    ]);
    metric(
      'openrecall_stage_duration_seconds',
      'histogram',
      'Duration of each pipeline stage run (image, ocr, describe, embed).',
      this.stages.lines('openrecall_stage_duration_seconds'),
    );
    metric('openrecall_stage_failures_total', 'counter', 'Failed pipeline stage runs by stage.', this.stageFailures.lines('openrecall_stage_failures_total'));
    const storage = await this.sources.storage();
    metric('openrecall_storage_bytes', 'gauge', 'Bytes used in the data dir (refreshed at most once a minute).', [
      `openrecall_storage_bytes{kind="screenshots"} ${storage.screenshots}`,
      `openrecall_storage_bytes{kind="thumbnails"} ${storage.thumbnails}`,
      `openrecall_storage_bytes{kind="database"} ${storage.database}`,
    ]);
    metric(
      'openrecall_client_buffer_bytes',
      'gauge',
      'Unsent frames buffered by each client, as reported with its last upload.',
      [...this.clientBuffers].map(([client, { bytes }]) => `openrecall_client_buffer_bytes${labelText({ client })} ${bytes}`),
    );
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory of the server process.', [`process_resident_memory_bytes ${process.memoryUsage.rss()}`]);
    return `${out.join('\n')}\n`;
  }
}

/** Total size of the files under `dir` (0 when it does not exist). */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(full);
    else if (entry.isFile())
      total += await fs.promises.stat(full).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}

/** Storage use measured by walking the directories, at most once per `maxAgeMs`; concurrent callers share one walk. */
export function cachedStorage(paths: { screenshots: string; thumbnails: string; db: string }, maxAgeMs = 60_000) {
  let value: { screenshots: number; thumbnails: number; database: number } | undefined;
  let measuredAt = 0;
  let running: Promise<{ screenshots: number; thumbnails: number; database: number }> | undefined;
  return async () => {
    if (value && Date.now() - measuredAt < maxAgeMs) return value;
    running ??= (async () => {
      const [screenshots, thumbnails, database] = await Promise.all([
        directoryBytes(paths.screenshots),
        directoryBytes(paths.thumbnails),
        directoryBytes(paths.db),
      ]);
      value = { screenshots, thumbnails, database };
      measuredAt = Date.now();
      return value;
    })().finally(() => (running = undefined));
    return running;
  };
}
