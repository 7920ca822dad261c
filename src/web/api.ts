// The UI's only way to the server: the public JSON API, with the optional API token.

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

const TOKEN_KEY = 'openrecall.token';
const TOKEN_COOKIE = 'openrecall_token';

export function storedToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Keeps the token for fetch (Authorization header) and for images (a same-site cookie, as <img> sends no headers). */
function saveToken(token: string): void {
  try {
    localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Private mode: the token lasts for this page only.
  }
  document.cookie = `${TOKEN_COOKIE}=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
}

type TokenPrompt = () => Promise<string | null>;
let promptForToken: TokenPrompt = async () => null;
let pendingPrompt: Promise<string | null> | undefined;

/** The UI registers its dialog here; concurrent 401s share one prompt, so the user is asked once. */
export function setTokenPrompt(prompt: TokenPrompt): void {
  promptForToken = prompt;
}

async function askToken(): Promise<string | null> {
  pendingPrompt ??= promptForToken().finally(() => (pendingPrompt = undefined));
  const token = await pendingPrompt;
  if (token) saveToken(token);
  return token;
}

export async function api<T>(path: string, init: RequestInit & { signal?: AbortSignal } = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const headers = new Headers(init.headers);
    headers.set('accept', 'application/json');
    const token = storedToken();
    if (token) headers.set('authorization', `Bearer ${token}`);
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
