import type {
  BackfillStarted,
  CompactionStatus,
  Health,
  LockResult,
  HeartbeatBody,
  HeartbeatResponse,
  PruneReport,
  QueueStatus,
  SearchQuery,
  SearchResponse,
  WorkerPing,
} from '../api/index.js';
import { WORKER_ID_HEADER } from '../api/worker-header.js';
import { apiToken, apiUrl, type Env } from '../config.js';
import { bearer } from './auth.js';
import { uploadFrame, type FrameUpload, type UploadResponse } from './upload.js';

export type ApiClientErrorKind = 'unreachable' | 'unauthorized' | 'http';

/** Every failure of an API call, as one sentence that says what to do; `openrecall` prints it as it is. */
export class ApiClientError extends Error {
  constructor(
    readonly kind: ApiClientErrorKind,
    message: string,
    /** HTTP status; 0 when no answer came. */
    readonly status = 0,
    /** The server's machine-readable code (the `error` field), when it sent one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  /** OPENRECALL_API_TOKEN; none: no Authorization header. */
  token?: string;
  /** Per request, unless the call says otherwise. Default 10 s. */
  timeoutMs?: number;
}

type Query = Record<string, string | number | boolean | undefined>;

/** A 1080p frame over a slow link. */
const DATA_FILE_TIMEOUT_MS = 60_000;

/** The typed HTTP client of the API (base URL ending in /api), with the token and the error mapping done once. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly options: ApiClientOptions = {},
  ) {}

  /** OPENRECALL_API_URL (or host and port) and OPENRECALL_API_TOKEN of this environment. */
  static fromEnv(env: Env = process.env): ApiClient {
    const token = apiToken(env);
    return new ApiClient(apiUrl(env), token ? { token } : {});
  }

  health(): Promise<Health> {
    return this.request('GET', '/health', { timeoutMs: 5000 });
  }

  queueStatus(timeoutMs?: number): Promise<QueueStatus> {
    return this.request('GET', '/queue/status', { timeoutMs });
  }

  startBackfill(): Promise<BackfillStarted> {
    return this.request('POST', '/queue/backfill');
  }

  search(query: { [K in keyof SearchQuery]?: string | number }): Promise<SearchResponse> {
    return this.request('GET', '/search', { query, timeoutMs: 30_000 });
  }

  prune(dryRun: boolean): Promise<PruneReport> {
    return this.request('POST', '/storage/prune', { query: { dry_run: dryRun }, timeoutMs: 10 * 60_000 });
  }

  /** Asks the server's processor to compact every processed frame now; answers the compaction figures. */
  compact(): Promise<CompactionStatus> {
    return this.request('POST', '/storage/compact');
  }

  /** POST /api/lock (`openrecall lock`): the server wipes its keys and serves the unlock page. */
  lock(): Promise<LockResult> {
    return this.request('POST', '/lock', { body: {}, timeoutMs: 30_000 });
  }

  /** POST /api/heartbeat: this capture client's report; the answer says whether to record and upload. */
  heartbeat(body: HeartbeatBody, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<HeartbeatResponse> {
    return this.request('POST', '/heartbeat', { body, timeoutMs: options.timeoutMs, signal: options.signal });
  }

  /** POST /api/upload. Answers come back as they are (the capture client decides on retries by status). */
  upload(frame: FrameUpload, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<UploadResponse> {
    return uploadFrame(this.baseUrl, frame, { ...options, ...(this.options.token ? { token: this.options.token } : {}) });
  }

  /** GET /api/worker/files: a frame's file, for a worker without the data dir; undefined when it is gone. */
  async readDataFile(path: string): Promise<Buffer | undefined> {
    const response = await this.send('GET', '/worker/files', { query: { path }, timeoutMs: DATA_FILE_TIMEOUT_MS });
    const bytes = Buffer.from(await response.arrayBuffer());
    if (response.status === 404) return undefined;
    if (!response.ok) this.refused(response, bytes.toString('utf8'), 'GET');
    return bytes;
  }

  /** GET /api/worker/ping: whether this client's token opens the worker file API. */
  workerPing(): Promise<WorkerPing> {
    return this.request('GET', '/worker/ping');
  }

  /** PUT /api/worker/files: stores the processed image or thumbnail of a frame `workerId` holds, in the server's data dir. */
  async writeDataFile(frameId: number, path: string, bytes: Buffer, workerId: string): Promise<void> {
    await this.binary('PUT', { frameId, path, workerId }, bytes);
  }

  /** DELETE /api/worker/files: removes the upload a frame `workerId` holds was processed from. */
  async removeDataFile(frameId: number, path: string, workerId: string): Promise<void> {
    await this.binary('DELETE', { frameId, path, workerId });
  }

  private async binary(method: 'PUT' | 'DELETE', file: { frameId: number; path: string; workerId: string }, bytes?: Buffer): Promise<void> {
    const response = await this.send(method, '/worker/files', {
      query: { frame: file.frameId, path: file.path },
      headers: { [WORKER_ID_HEADER]: file.workerId },
      timeoutMs: DATA_FILE_TIMEOUT_MS,
      ...(bytes ? { body: new Uint8Array(bytes), contentType: 'application/octet-stream' } : {}),
    });
    const text = await response.text();
    if (!response.ok) this.refused(response, text, method);
  }

  private async request<T>(
    method: 'GET' | 'POST',
    path: string,
    options: { query?: Query; body?: unknown; timeoutMs?: number | undefined; signal?: AbortSignal | undefined } = {},
  ): Promise<T> {
    const json = options.body !== undefined;
    const response = await this.send(method, path, {
      ...options,
      ...(json ? { body: JSON.stringify(options.body), contentType: 'application/json' } : { body: undefined }),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (response.ok) return body as T;
    this.refused(response, text, method);
  }

  /** The HTTP call with the token and the timeout; a server that does not answer becomes the one sentence. */
  private async send(
    method: string,
    path: string,
    options: {
      query?: Query;
      body?: BodyInit | undefined;
      contentType?: string;
      headers?: Record<string, string>;
      timeoutMs?: number | undefined;
      signal?: AbortSignal | undefined;
    },
  ): Promise<Response> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined && value !== '') params.set(key, String(value));
    const url = `${this.baseUrl}${path}${params.size ? `?${params}` : ''}`;
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 10_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      return await fetch(url, {
        method,
        headers: {
          accept: 'application/json',
          ...(options.contentType ? { 'content-type': options.contentType } : {}),
          ...options.headers,
          ...bearer(this.options.token),
        },
        ...(options.body !== undefined ? { body: options.body } : {}),
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      const why =
        (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : String((error as Error).cause ?? (error as Error).message);
      throw new ApiClientError(
        'unreachable',
        `no server answering at ${this.baseUrl} (${why}): start it with "openrecall server" (or the systemd unit), or set OPENRECALL_API_URL`,
      );
    }
  }

  /** Any answer but 2xx, as the sentence the commands print. */
  private refused(response: Response, text: string, method: string): never {
    let error: { error?: unknown; message?: unknown } | undefined;
    try {
      error = text ? JSON.parse(text) : undefined;
    } catch {
      error = undefined;
    }
    const code = typeof error?.error === 'string' ? error.error : undefined;
    if (response.status === 401 || response.status === 403) {
      const setting = response.url.includes('/api/worker/')
        ? "OPENRECALL_WORKER_TOKEN to the server's worker token (or OPENRECALL_API_TOKEN when it has none)"
        : "OPENRECALL_API_TOKEN to the server's token";
      throw new ApiClientError(
        'unauthorized',
        `the server at ${this.baseUrl} refused the request (${response.status}): token missing or wrong; set ${setting}`,
        response.status,
        code,
      );
    }
    const message =
      typeof error?.message === 'string' ? error.message : `${method} ${response.url} answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
    throw new ApiClientError('http', message, response.status, code);
  }
}
