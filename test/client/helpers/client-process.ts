import fs from 'node:fs';
import path from 'node:path';
import { controlSocketPath, sendControl } from '../../../src/client/control.js';
import { getJson, waitUntil } from '../../helpers/api.js';
import { runCli, type CliProcess } from '../../helpers/server-process.js';

/** An X or Wayland session: its variables are what the client needs to reach it. */
export interface DisplaySession {
  env: Record<string, string>;
}

export interface Entry {
  id: number;
  app: string;
  title: string;
  capture_id: string;
  monitor: number | null;
  timestamp: number;
  /** OCR text, once processed (null before, or without OCR). */
  text: string | null;
}

/** Environment for a client on the test display: fast ticks, no idle check, short backoff, no session leaks. */
export function clientEnv(session: DisplaySession, dataDir: string, api: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    XAUTHORITY: '/dev/null',
    WAYLAND_DISPLAY: '',
    XDG_SESSION_TYPE: '',
    XDG_SESSION_ID: '',
    ...session.env,
    OPENRECALL_DATA_DIR: dataDir,
    OPENRECALL_API_URL: api,
    OPENRECALL_CAPTURE_INTERVAL: '0.3',
    OPENRECALL_IDLE_SECONDS: '0',
    OPENRECALL_UPLOAD_BACKOFF_INITIAL_SECONDS: '0.1',
    OPENRECALL_UPLOAD_BACKOFF_MAX_SECONDS: '0.5',
    ...extra,
  };
}

export interface ClientProcess extends CliProcess {
  dataDir: string;
  bufferDir: string;
  status(): Promise<any>;
  /** SIGTERM (default) and the exit; resolves with the code and how long it took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** Runs the built `openrecall client` and waits until it captures. */
export async function startClientProcess(
  session: DisplaySession,
  dataDir: string,
  api: string,
  extra: Record<string, string> = {},
  user?: { uid: number; gid: number },
): Promise<ClientProcess> {
  const cli = runCli(['client'], clientEnv(session, dataDir, api, extra), user);
  await cli.waitFor(/\[client\] capturing the (primary monitor|all monitors)/, 30_000);
  return {
    ...cli,
    dataDir,
    bufferDir: path.join(dataDir, 'buffer'),
    status: async () => {
      const answer = await sendControl(controlSocketPath(dataDir), 'status');
      if (!answer.ok) throw new Error(answer.error);
      return answer.status;
    },
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      const started = Date.now();
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill(signal);
      const exit = await cli.exited;
      return { ...exit, ms: Date.now() - started };
    },
  };
}

export async function entries(api: string): Promise<Entry[]> {
  const { body } = await getJson<{ entries: Entry[] }>(`${api}/entries?limit=500`);
  return body.entries;
}

export function waitForEntry(api: string, match: (e: Entry) => boolean, what: string, timeoutMs = 30_000): Promise<Entry> {
  return waitUntil(async () => (await entries(api)).find(match), { timeoutMs, intervalMs: 100, what }) as Promise<Entry>;
}

/** Buffer items (complete frames waiting for upload). */
export function bufferItems(bufferDir: string): string[] {
  if (!fs.existsSync(bufferDir)) return [];
  return fs
    .readdirSync(bufferDir)
    .filter((f) => f.endsWith('.orf'))
    .sort();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
