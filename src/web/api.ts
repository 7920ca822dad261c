// The UI's only way to the server: the public JSON API. With OPENRECALL_API_TOKEN set, the server's session
// cookie (from POST /api/session) authenticates the UI's requests; the browser sends it by itself.

// The response types come from the contract (src/api/); `import type` is erased, so no schema code reaches
// the browser bundle. Import the resource modules, not src/api/index.ts: the upload form mentions Node's Buffer.
import type { ActivityResponse } from '../api/activity.js';
import type { CaptureClient, ClientList, PauseBody, RuntimeConfig, ServerSettings } from '../api/clients.js';
import type { Status } from '../api/common.js';
import type { Entry, EntryList } from '../api/entries.js';
import type { QueueStatus, RetriedCount } from '../api/queue.js';
import type { AppList, Capabilities, SearchHit, SearchResponse } from '../api/search.js';
import type { AskAnswer, AskContext, AskContextFrame, AskFrame } from '../api/ask.js';
import type { TimelineFrame, TimelineLocated, TimelinePage, TimelineSummary } from '../api/timeline.js';
import type { EncryptionStatus, LockResult } from '../api/unlock.js';

export type {
  ActivityResponse,
  AskAnswer,
  AskContext,
  AskContextFrame,
  AskFrame,
  AppList,
  Capabilities,
  CaptureClient,
  ClientList,
  EncryptionStatus,
  Entry,
  EntryList,
  LockResult,
  PauseBody,
  QueueStatus,
  RetriedCount,
  RuntimeConfig,
  SearchResponse,
  ServerSettings,
  Status,
  TimelineFrame,
  TimelineLocated,
  TimelinePage,
  TimelineSummary,
};
export type SearchResult = SearchHit;

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Sent with every request: the server takes a change made with the session cookie only with it (or an Origin
 * header). Another page cannot add it to a cross-site request without a CORS preflight the server never allows.
 */
const CSRF_HEADER = 'x-openrecall-csrf';

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
    const response = await fetch('/api/session', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', [CSRF_HEADER]: '1' },
    });
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
    headers.set(CSRF_HEADER, '1');
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
