// The UI's only way to the server: the public JSON API. With OPENRECALL_API_TOKEN set, the server's session
// cookie (from POST /api/session) authenticates the UI's requests; the browser sends it by itself.

export type Status = 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED';

export interface Entry {
  id: number;
  timestamp: number;
  app: string | null;
  title: string | null;
  text: string | null;
  description: string | null;
  status: Status;
  capture_id: string | null;
  image_path: string | null;
  monitor: number | null;
  width: number | null;
  height: number | null;
  bytes: number | null;
  received_at: number | null;
  attempts: number;
  last_error: string | null;
  processing_started_at: number | null;
  processing_finished_at: number | null;
  image_url: string;
  thumbnail_url: string;
}

export interface EntryList {
  entries: Entry[];
  next_before_id: number | null;
}

export interface QueueStatus {
  queue: { pending: number; processing: number; completed: number; failed: number };
  config: { lifo_threshold: number; current_mode: 'LIFO' | 'FIFO'; workers: number; max_attempts: number; ocr_engine: string };
  throughput: { completed_last_minute: number; completed_last_5_minutes: number; frames_per_minute: number };
  oldest_pending_age_seconds: number | null;
  storage: {
    used_bytes: number;
    budget_bytes: number | null;
    retention_days: number | null;
    oldest_frame_timestamp: number | null;
    deleted_frames: number;
  };
  compaction?: {
    after_minutes: number;
    compacted_frames: number;
    pending_frames: number;
    uncompacted_frames: number;
    stored_bytes: number;
    original_bytes: number;
    ratio: number | null;
  };
  system: { version: string; uptime_seconds: number; pid: number; rss_mb: number; node: string; platform: string; cpus: number };
}

export interface SearchResult {
  id: number;
  timestamp: number;
  app: string | null;
  title: string | null;
  status: Status;
  /** HTML-escaped by the server, matches wrapped in <mark>. */
  snippet: string;
  score: number | null;
  thumbnail_url: string;
  image_url: string;
}

export interface SearchResponse {
  query: string;
  mode: string;
  total: number;
  limit: number;
  offset: number;
  results: SearchResult[];
}

export interface Capabilities {
  search_modes: string[];
  default_search_mode: string;
  show_ai_description: boolean;
}

export interface TimelineFrame {
  index: number;
  id: number;
  timestamp: number;
  app: string | null;
  title: string | null;
  status: Status;
  width: number | null;
  height: number | null;
  image_url: string;
  thumbnail_url: string;
}

export interface TimelineSummary {
  count: number;
  first_timestamp: number | null;
  last_timestamp: number | null;
}

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type TokenPrompt = () => Promise<string | null>;
let promptForToken: TokenPrompt = async () => null;
let pendingPrompt: Promise<boolean> | undefined;

/** The UI registers its dialog here; concurrent 401s share one prompt, so the user is asked once. */
export function setTokenPrompt(prompt: TokenPrompt): void {
  promptForToken = prompt;
}

/**
 * Trades the token for the server's session cookie (HttpOnly, SameSite=Strict): the token is sent once and
 * never stored where a script could read it; the cookie authenticates every later request, images included.
 */
async function openSession(token: string): Promise<boolean> {
  try {
    const response = await fetch('/api/session', { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    return response.ok;
  } catch {
    return false;
  }
}

/** Asks for the token (once for concurrent callers) and opens a session; true when the server took it. */
async function askToken(): Promise<boolean> {
  pendingPrompt ??= (async () => {
    // A mistyped token is asked for again (three tries); cancelling gives up.
    for (let i = 0; i < 3; i++) {
      const token = await promptForToken();
      if (!token) return false;
      if (await openSession(token)) return true;
    }
    return false;
  })().finally(() => (pendingPrompt = undefined));
  return pendingPrompt;
}

export async function api<T>(path: string, init: RequestInit & { signal?: AbortSignal } = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const headers = new Headers(init.headers);
    headers.set('accept', 'application/json');
    let response: Response;
    try {
      response = await fetch(path, { ...init, headers });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ApiRequestError(0, 'NETWORK', 'The server cannot be reached. Is OpenRecall running?');
    }
    if (response.status === 401 && attempt < 3 && (await askToken())) continue;
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const error = body as { error?: string; message?: string } | undefined;
      throw new ApiRequestError(response.status, error?.error ?? 'HTTP_ERROR', error?.message ?? `${response.status} ${response.statusText}`);
    }
    return body as T;
  }
}

export const query = (params: Record<string, string | number | undefined | null>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
};

let capabilities: Promise<Capabilities> | undefined;

/** What this server offers (search modes, AI descriptions); a server without the endpoint offers keyword search. */
export function getCapabilities(): Promise<Capabilities> {
  capabilities ??= api<Capabilities>('/api/capabilities').catch(() => ({
    search_modes: ['keyword'],
    default_search_mode: 'keyword',
    show_ai_description: true,
  }));
  return capabilities;
}
