import os from 'node:os';
import { loadAiConfig, type AiConfig } from './ai/config.js';
import path from 'node:path';

/**
 * Configuration comes from OPENRECALL_* environment variables (names kept from the Python original).
 * Each variable is parsed by one small reader; a bad value throws a ConfigError whose message is the single
 * line the CLI prints before exiting.
 */
export class ConfigError extends Error {}

export type OcrEngineName = 'tesseract-js' | 'tesseract-cli' | 'none';

export interface ServerConfig {
  dataDir: string;
  host: string;
  port: number;
  debug: boolean;
  lifoThreshold: number;
  workers: number;
  ocrEngine: OcrEngineName;
  maxUploadBytes: number;
  maxImagePixels: number;
  maxAttempts: number;
  shutdownGraceMs: number;
  /** Frames older than this many days are deleted (0: keep forever). */
  retentionDays: number;
  /** Storage budget in bytes for screenshots, thumbnails and the database (0: no budget). */
  maxStorageBytes: number;
  /** OPENRECALL_API_TOKEN: when set, every /api route (but health), /metrics and the images require it. */
  apiToken?: string;
  /** `--insecure-no-auth`: allows a non-loopback OPENRECALL_HOST without a token. */
  insecureNoAuth?: boolean;
  /** Uploads being received or stored at once; past it the server answers 503 with Retry-After. */
  maxConcurrentUploads: number;
  /** A request (headers and body) must arrive within this long; an idle connection is closed after it. */
  requestTimeoutMs: number;
  /** Processed frames older than this many minutes are compacted into shared tiles (0: at once). */
  compactAfterMinutes: number;
  ai: AiConfig;
}

export type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function readString(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
  if (['0', 'false', 'no', 'off'].includes(lower)) return false;
  throw new ConfigError(`${name}="${value}" is not valid: use true or false`);
}

export function readNumber(
  env: Env,
  name: string,
  fallback: number,
  { min, max, integer = true }: { min: number; max: number; integer?: boolean },
): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  const kind = integer ? 'an integer' : 'a number';
  if (!Number.isFinite(parsed) || (integer && !Number.isInteger(parsed)) || parsed < min || parsed > max) {
    throw new ConfigError(`${name}="${value}" is not valid: use ${kind} from ${min} to ${max}`);
  }
  return parsed;
}

export function readChoice<T extends string>(env: Env, name: string, fallback: T, choices: readonly T[]): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${name}="${value}" is not valid: use one of ${choices.join(', ')}`);
}

export function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return p;
}

export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism() - 1);
}

export function loadServerConfig(env: Env = process.env): ServerConfig {
  return {
    dataDir: path.resolve(expandHome(readString(env, 'OPENRECALL_DATA_DIR', '~/.myrecall_data'))),
    host: readString(env, 'OPENRECALL_HOST', '127.0.0.1'),
    port: readNumber(env, 'OPENRECALL_PORT', 8083, { min: 0, max: 65535 }),
    debug: readBoolean(env, 'OPENRECALL_DEBUG', false),
    lifoThreshold: readNumber(env, 'OPENRECALL_PROCESSING_LIFO_THRESHOLD', 10, { min: 0, max: 1_000_000 }),
    workers: readNumber(env, 'OPENRECALL_WORKERS', defaultWorkers(), { min: 1, max: 64 }),
    ocrEngine: readChoice<OcrEngineName>(env, 'OPENRECALL_OCR_ENGINE', 'tesseract-js', [
      'tesseract-js',
      'tesseract-cli',
      'none',
    ]),
    maxUploadBytes: Math.round(
      readNumber(env, 'OPENRECALL_MAX_UPLOAD_MB', 25, { min: 0.01, max: 1024, integer: false }) * 1024 * 1024,
    ),
    maxImagePixels: readNumber(env, 'OPENRECALL_MAX_IMAGE_PIXELS', 50_000_000, { min: 1, max: 1_000_000_000 }),
    maxAttempts: readNumber(env, 'OPENRECALL_MAX_ATTEMPTS', 3, { min: 1, max: 100 }),
    shutdownGraceMs: readNumber(env, 'OPENRECALL_SHUTDOWN_GRACE_SECONDS', 10, { min: 0, max: 600, integer: false }) * 1000,
    ...loadRetentionConfig(env),
    ...loadHardeningConfig(env),
    compactAfterMinutes: readNumber(env, 'OPENRECALL_COMPACT_AFTER_MINUTES', 10, { min: 0, max: 52_560_000, integer: false }),
    ai: loadAiConfig(env),
  };
}

/** OPENRECALL_RETENTION_DAYS and OPENRECALL_MAX_STORAGE_GB (also read by `openrecall prune`). */
export function loadRetentionConfig(env: Env = process.env): { retentionDays: number; maxStorageBytes: number } {
  return {
    retentionDays: readNumber(env, 'OPENRECALL_RETENTION_DAYS', 0, { min: 0, max: 36_500, integer: false }),
    maxStorageBytes: Math.round(readNumber(env, 'OPENRECALL_MAX_STORAGE_GB', 0, { min: 0, max: 1_000_000, integer: false }) * 1024 ** 3),
  };
}

/** Authentication and request limits of the server. */
export function loadHardeningConfig(env: Env = process.env): Pick<ServerConfig, 'apiToken' | 'maxConcurrentUploads' | 'requestTimeoutMs'> {
  const token = apiToken(env);
  return {
    ...(token !== undefined ? { apiToken: token } : {}),
    maxConcurrentUploads: readNumber(env, 'OPENRECALL_MAX_CONCURRENT_UPLOADS', 32, { min: 1, max: 10_000 }),
    requestTimeoutMs: readNumber(env, 'OPENRECALL_REQUEST_TIMEOUT_SECONDS', 30, { min: 1, max: 3600, integer: false }) * 1000,
  };
}

/** OPENRECALL_API_TOKEN (server and clients): at least 16 characters, no whitespace inside. */
export function apiToken(env: Env = process.env): string | undefined {
  const value = raw(env, 'OPENRECALL_API_TOKEN');
  if (value === undefined) return undefined;
  if (value.length < 16 || /\s/.test(value)) {
    throw new ConfigError('OPENRECALL_API_TOKEN is not valid: use at least 16 characters without spaces (e.g. openssl rand -hex 32)');
  }
  return value;
}

/** Headers that authenticate a request of the CLI or the capture client (none without a token). */
export function authHeaders(env: Env = process.env): Record<string, string> {
  const token = apiToken(env);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Whether binding to `host` keeps the server on this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

/** Where things live inside the data directory. */
export interface DataPaths {
  root: string;
  screenshots: string;
  incoming: string;
  thumbnails: string;
  db: string;
  dbFile: string;
  buffer: string;
  models: string;
}

export function dataPaths(dataDir: string): DataPaths {
  const screenshots = path.join(dataDir, 'screenshots');
  const db = path.join(dataDir, 'db');
  return {
    root: dataDir,
    screenshots,
    incoming: path.join(screenshots, 'incoming'),
    thumbnails: path.join(dataDir, 'thumbnails'),
    db,
    dbFile: path.join(db, 'recall.db'),
    buffer: path.join(dataDir, 'buffer'),
    models: path.join(dataDir, 'models'),
  };
}

/** The server's API base URL as a client on this machine sees it. */
export function apiUrl(env: Env = process.env): string {
  const explicit = raw(env, 'OPENRECALL_API_URL');
  if (explicit) return explicit.replace(/\/+$/, '');
  const host = readString(env, 'OPENRECALL_HOST', '127.0.0.1');
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${readNumber(env, 'OPENRECALL_PORT', 8083, { min: 0, max: 65535 })}/api`;
}
