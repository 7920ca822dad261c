import path from 'node:path';
import {
  apiToken,
  apiUrl,
  dataPaths,
  type EncryptionConfig,
  expandHome,
  loadEncryptionConfig,
  readBoolean,
  readChoice,
  readNumber,
  readString,
  type Env,
} from '../config.js';
import { backendSetting, type BackendSetting } from './capture/backend.js';
import { buildRules, parseList, type PrivacyRules } from './privacy.js';

export type BufferImageFormat = 'webp' | 'png';

export interface ClientConfig {
  dataDir: string;
  /** <data dir>/buffer: frames waiting for upload, oldest first. */
  bufferDir: string;
  apiUrl: string;
  /** OPENRECALL_API_TOKEN, sent as Authorization: Bearer with every upload. */
  apiToken?: string;
  debug: boolean;
  captureIntervalMs: number;
  primaryMonitorOnly: boolean;
  /** Frames at least this similar to the last kept one are skipped: 1 - share of the screen's tiles that show new content. */
  similarityThreshold: number;
  /** An unchanged screen is kept again after this long (while there is input); 0: never. */
  maxSkipMs: number;
  /** No input for this long: the user is idle (unchanged frames are not kept periodically). 0 disables the idle check. */
  idleMs: number;
  privacy: PrivacyRules;
  bufferMaxBytes: number;
  imageFormat: BufferImageFormat;
  uploadTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Seconds between heartbeats (OPENRECALL_HEARTBEAT_SECONDS): the client's report to the server and its pause/resume poll. */
  heartbeatMs: number;
  /** OPENRECALL_CAPTURE_BACKEND: auto (from the session) or x11, wlroots, portal (Linux only). */
  captureBackend: BackendSetting;
  /** Tests only (OPENRECALL_TEST_BUFFER_WRITE_DELAY_MS): a pause in the middle of each buffer write. */
  testWriteDelayMs: number;
  /** OPENRECALL_ENCRYPTION(_KEY_FILE) on this machine: the buffer is sealed (client/buffer-cipher.ts). */
  encryption: EncryptionConfig;
}

/** Client settings from OPENRECALL_* variables (shared ones such as OPENRECALL_DATA_DIR mean the same as for the server). */
export function loadClientConfig(env: Env = process.env): ClientConfig {
  const dataDir = path.resolve(expandHome(readString(env, 'OPENRECALL_DATA_DIR', '~/.myrecall_data')));
  const seconds = (name: string, fallback: number, min: number, max: number) =>
    Math.round(readNumber(env, name, fallback, { min, max, integer: false }) * 1000);
  const backoffInitialMs = seconds('OPENRECALL_UPLOAD_BACKOFF_INITIAL_SECONDS', 1, 0.01, 3600);
  return {
    dataDir,
    bufferDir: dataPaths(dataDir).buffer,
    apiUrl: apiUrl(env),
    ...(apiToken(env) !== undefined ? { apiToken: apiToken(env) } : {}),
    debug: readBoolean(env, 'OPENRECALL_DEBUG', false),
    captureIntervalMs: seconds('OPENRECALL_CAPTURE_INTERVAL', 10, 0.1, 86_400),
    primaryMonitorOnly: readBoolean(env, 'OPENRECALL_PRIMARY_MONITOR_ONLY', true),
    similarityThreshold: readNumber(env, 'OPENRECALL_SIMILARITY_THRESHOLD', 0.999, { min: 0, max: 1, integer: false }),
    maxSkipMs: seconds('OPENRECALL_MAX_SKIP_SECONDS', 300, 0, 86_400 * 7),
    idleMs: seconds('OPENRECALL_IDLE_SECONDS', 5, 0, 86_400),
    privacy: buildRules(
      parseList(env.OPENRECALL_EXCLUDE_APPS),
      parseList(env.OPENRECALL_EXCLUDE_TITLES),
      readBoolean(env, 'OPENRECALL_EXCLUDE_DEFAULTS', true),
    ),
    bufferMaxBytes: Math.round(readNumber(env, 'OPENRECALL_BUFFER_MAX_MB', 1024, { min: 1, max: 1_048_576, integer: false }) * 1024 * 1024),
    imageFormat: readChoice<BufferImageFormat>(env, 'OPENRECALL_CLIENT_IMAGE_FORMAT', 'webp', ['webp', 'png']),
    uploadTimeoutMs: seconds('OPENRECALL_UPLOAD_TIMEOUT_SECONDS', 30, 1, 3600),
    backoffInitialMs,
    backoffMaxMs: Math.max(backoffInitialMs, seconds('OPENRECALL_UPLOAD_BACKOFF_MAX_SECONDS', 60, 0.01, 3600)),
    heartbeatMs: seconds('OPENRECALL_HEARTBEAT_SECONDS', 5, 0.1, 3600),
    captureBackend: backendSetting(env),
    testWriteDelayMs: readNumber(env, 'OPENRECALL_TEST_BUFFER_WRITE_DELAY_MS', 0, { min: 0, max: 60_000 }),
    encryption: loadEncryptionConfig(env),
  };
}
