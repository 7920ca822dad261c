import os from 'node:os';
import path from 'node:path';
import { loadAiConfig, type AiConfig } from './ai/config.js';
import { ConfigError, raw, readBoolean, readChoice, readNumber, readString, expandHome, type Env } from './env.js';

/**
 * Configuration comes from OPENRECALL_* environment variables (names kept from the Python original), read by
 * the small readers of env.ts.
 */
export { ConfigError, expandHome, readBoolean, readChoice, readNumber, readString, type Env } from './env.js';

export type OcrEngineName = 'tesseract-js' | 'tesseract-cli' | 'none';

export interface ServerConfig {
  dataDir: string;
  host: string;
  port: number;
  debug: boolean;
  lifoThreshold: number;
  workers: number;
  ocrEngine: OcrEngineName;
  /** OPENRECALL_OCR_LANGUAGES: Tesseract language codes joined by "+", e.g. eng+deu+chi_sim. */
  ocrLanguages: string;
  /** OPENRECALL_REDACT: what is hidden from text and pixels before anything is stored (src/redaction). */
  redact: RedactSetting;
  maxUploadBytes: number;
  /** OPENRECALL_MAX_METADATA_MB: the longest text field of an upload form (MyRecall v3's metadata carries the accessibility tree). */
  maxMetadataBytes: number;
  maxImagePixels: number;
  maxAttempts: number;
  /**
   * OPENRECALL_DATABASE_URL: a postgres:// URL selects PostgreSQL (several servers and workers share one memory);
   * unset, the SQLite database in the data dir.
   */
  databaseUrl?: string;
  /** `openrecall server --no-processing`: ingest and serve only; `openrecall worker` processes elsewhere. */
  noProcessing?: boolean;
  /** OPENRECALL_LEASE_SECONDS: how long a claimed frame stays a worker's without renewal (a dead worker's frames return after it). */
  leaseSeconds: number;
  shutdownGraceMs: number;
  /** Frames older than this many days are deleted (0: keep forever). */
  retentionDays: number;
  /** Storage budget in bytes for screenshots, thumbnails and the database (0: no budget). */
  maxStorageBytes: number;
  /** OPENRECALL_API_TOKEN: when set, every /api route (but health), /metrics and the images require it. */
  apiToken?: string;
  /** OPENRECALL_WORKER_TOKEN: when set, /api/worker/* (the file API of remote workers) takes this token and no other. */
  workerToken?: string;
  /** `--insecure-no-auth`: allows a non-loopback OPENRECALL_HOST without a token. */
  insecureNoAuth?: boolean;
  /** Uploads being received or stored at once; past it the server answers 503 with Retry-After. */
  maxConcurrentUploads: number;
  /** A request (headers and body) must arrive within this long; an idle connection is closed after it. */
  requestTimeoutMs: number;
  /** Processed frames older than this many minutes are compacted into shared tiles (0: at once). */
  compactAfterMinutes: number;
  ai: AiConfig;
  /** OPENRECALL_ALLOWED_HOSTS: further names (`name` or `name:port`) a request's Host and Origin may carry. */
  allowedHosts: string[];
  /** OPENRECALL_TLS_CERT / OPENRECALL_TLS_KEY: PEM files; both set, the server speaks HTTPS. */
  tls?: { certFile: string; keyFile: string };
  /** OPENRECALL_TRUST_PROXY: a reverse proxy terminates TLS and says so in X-Forwarded-Proto. */
  trustProxy: boolean;
  /** OPENRECALL_ENCRYPTION and OPENRECALL_ENCRYPTION_KEY_FILE (src/encryption/open-encryption.ts). */
  encryption?: EncryptionConfig;
}

export interface EncryptionConfig {
  /** OPENRECALL_ENCRYPTION: `on` encrypts every file of the data dir and the SQLite database. */
  mode: 'off' | 'on';
  /** OPENRECALL_ENCRYPTION_KEY_FILE: a 32-byte key file (made 0600 on the first start) for servers and workers. */
  keyFile?: string;
}

/** OPENRECALL_ENCRYPTION=off|on and OPENRECALL_ENCRYPTION_KEY_FILE. */
export function loadEncryptionConfig(env: Env = process.env): EncryptionConfig {
  const keyFile = raw(env, 'OPENRECALL_ENCRYPTION_KEY_FILE');
  return {
    mode: readChoice(env, 'OPENRECALL_ENCRYPTION', 'off', ['off', 'on'] as const),
    ...(keyFile ? { keyFile: path.resolve(expandHome(keyFile)) } : {}),
  };
}

export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism() - 1);
}

export type RedactSetting = 'secrets' | 'secrets,pii' | 'off';

/** The redaction policy of a setting; null when redaction is off. */
export const redactionPolicy = (setting: RedactSetting) => (setting === 'off' ? null : { pii: setting === 'secrets,pii' });

export function loadServerConfig(env: Env = process.env): ServerConfig {
  return {
    dataDir: path.resolve(expandHome(readString(env, 'OPENRECALL_DATA_DIR', '~/.myrecall_data'))),
    host: readString(env, 'OPENRECALL_HOST', '127.0.0.1'),
    port: readNumber(env, 'OPENRECALL_PORT', 8083, { min: 0, max: 65535 }),
    debug: readBoolean(env, 'OPENRECALL_DEBUG', false),
    lifoThreshold: readNumber(env, 'OPENRECALL_PROCESSING_LIFO_THRESHOLD', 10, { min: 0, max: 1_000_000 }),
    workers: readNumber(env, 'OPENRECALL_WORKERS', defaultWorkers(), { min: 1, max: 64 }),
    ocrEngine: readChoice<OcrEngineName>(env, 'OPENRECALL_OCR_ENGINE', 'tesseract-js', ['tesseract-js', 'tesseract-cli', 'none']),
    ocrLanguages: readOcrLanguages(env),
    redact: readChoice<RedactSetting>(env, 'OPENRECALL_REDACT', 'secrets', ['secrets', 'secrets,pii', 'off']),
    maxUploadBytes: Math.round(readNumber(env, 'OPENRECALL_MAX_UPLOAD_MB', 25, { min: 0.01, max: 1024, integer: false }) * 1024 * 1024),
    maxMetadataBytes: Math.round(readNumber(env, 'OPENRECALL_MAX_METADATA_MB', 4, { min: 0.0625, max: 64, integer: false }) * 1024 * 1024),
    maxImagePixels: readNumber(env, 'OPENRECALL_MAX_IMAGE_PIXELS', 50_000_000, { min: 1, max: 1_000_000_000 }),
    maxAttempts: readNumber(env, 'OPENRECALL_MAX_ATTEMPTS', 3, { min: 1, max: 100 }),
    ...readDatabaseUrl(env),
    leaseSeconds: readNumber(env, 'OPENRECALL_LEASE_SECONDS', 60, { min: 1, max: 86_400, integer: false }),
    shutdownGraceMs: readNumber(env, 'OPENRECALL_SHUTDOWN_GRACE_SECONDS', 10, { min: 0, max: 600, integer: false }) * 1000,
    ...loadRetentionConfig(env),
    ...loadHardeningConfig(env),
    compactAfterMinutes: readNumber(env, 'OPENRECALL_COMPACT_AFTER_MINUTES', 10, { min: 0, max: 52_560_000, integer: false }),
    ai: loadAiConfig(env),
    ...loadLanConfig(env),
    encryption: loadEncryptionConfig(env),
  };
}

/** OPENRECALL_ALLOWED_HOSTS, OPENRECALL_TLS_CERT/_KEY and OPENRECALL_TRUST_PROXY: serving beyond loopback. */
export function loadLanConfig(env: Env = process.env): Pick<ServerConfig, 'allowedHosts' | 'tls' | 'trustProxy'> {
  const allowedHosts = readString(env, 'OPENRECALL_ALLOWED_HOSTS', '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  for (const host of allowedHosts) {
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(:\d{1,5})?$/.test(host)) {
      throw new ConfigError(`OPENRECALL_ALLOWED_HOSTS has "${host}": list host names or addresses, each optionally with :port, separated by commas`);
    }
  }
  const certFile = raw(env, 'OPENRECALL_TLS_CERT') || undefined;
  const keyFile = raw(env, 'OPENRECALL_TLS_KEY') || undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError('OPENRECALL_TLS_CERT and OPENRECALL_TLS_KEY go together: set both (PEM certificate and key files) or neither');
  }
  return {
    allowedHosts,
    ...(certFile && keyFile ? { tls: { certFile: path.resolve(expandHome(certFile)), keyFile: path.resolve(expandHome(keyFile)) } } : {}),
    trustProxy: readBoolean(env, 'OPENRECALL_TRUST_PROXY', false),
  };
}

/** OPENRECALL_DATABASE_URL: only postgres:// URLs; the message never repeats the URL (it may hold a password). */
export function readDatabaseUrl(env: Env = process.env): { databaseUrl?: string } {
  const value = raw(env, 'OPENRECALL_DATABASE_URL');
  if (value === undefined || value === '') return {};
  if (!/^postgres(ql)?:\/\//i.test(value)) {
    throw new ConfigError('OPENRECALL_DATABASE_URL is not valid: use postgres://user:password@host:5432/database (unset it to use SQLite in the data dir)');
  }
  return { databaseUrl: value };
}

/** OPENRECALL_OCR_LANGUAGES: `eng` by default; whether each one is installed is checked when the server starts. */
export function readOcrLanguages(env: Env = process.env): string {
  const value = readString(env, 'OPENRECALL_OCR_LANGUAGES', 'eng');
  if (!/^[A-Za-z][A-Za-z0-9_]*(\+[A-Za-z][A-Za-z0-9_]*)*$/.test(value)) {
    throw new ConfigError(`OPENRECALL_OCR_LANGUAGES="${value}" is not valid: use Tesseract language codes joined by +, e.g. eng+deu+chi_sim`);
  }
  return value;
}

/** OPENRECALL_RETENTION_DAYS and OPENRECALL_MAX_STORAGE_GB (also read by `openrecall prune`). */
export function loadRetentionConfig(env: Env = process.env): { retentionDays: number; maxStorageBytes: number } {
  return {
    retentionDays: readNumber(env, 'OPENRECALL_RETENTION_DAYS', 0, { min: 0, max: 36_500, integer: false }),
    maxStorageBytes: Math.round(readNumber(env, 'OPENRECALL_MAX_STORAGE_GB', 0, { min: 0, max: 1_000_000, integer: false }) * 1024 ** 3),
  };
}

/** Authentication and request limits of the server. */
export function loadHardeningConfig(env: Env = process.env): Pick<ServerConfig, 'apiToken' | 'workerToken' | 'maxConcurrentUploads' | 'requestTimeoutMs'> {
  const token = apiToken(env);
  const worker = workerToken(env);
  return {
    ...(token !== undefined ? { apiToken: token } : {}),
    ...(worker !== undefined ? { workerToken: worker } : {}),
    maxConcurrentUploads: readNumber(env, 'OPENRECALL_MAX_CONCURRENT_UPLOADS', 32, { min: 1, max: 10_000 }),
    requestTimeoutMs: readNumber(env, 'OPENRECALL_REQUEST_TIMEOUT_SECONDS', 30, { min: 1, max: 3600, integer: false }) * 1000,
  };
}

/** OPENRECALL_API_TOKEN (server and clients): at least 16 characters, no whitespace inside. */
export function apiToken(env: Env = process.env): string | undefined {
  return token(env, 'OPENRECALL_API_TOKEN');
}

/** OPENRECALL_WORKER_TOKEN (server and `openrecall worker`): the same rules as the API token. */
export function workerToken(env: Env = process.env): string | undefined {
  return token(env, 'OPENRECALL_WORKER_TOKEN');
}

function token(env: Env, name: string): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  if (value.length < 16 || /\s/.test(value)) {
    throw new ConfigError(`${name} is not valid: use at least 16 characters without spaces (e.g. openssl rand -hex 32)`);
  }
  return value;
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
