import type { ServerSetting } from '../api/index.js';
import type { ServerConfig } from '../config.js';

/** A URL without user name, password or query (which may carry a key). */
function safeUrl(value: string): string {
  if (!value) return '';
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(set)';
  }
}

const secret = (value: string | undefined) => (value ? 'set (hidden)' : 'not set');

/** The server's effective settings for the Settings page: values as in effect, secrets only as "set" or "not set". */
export function effectiveServerSettings(config: ServerConfig): ServerSetting[] {
  const { vlm, embedding } = config.ai;
  const mb = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 100) / 100}`;
  return [
    { name: 'OPENRECALL_DATA_DIR', value: config.dataDir },
    { name: 'OPENRECALL_HOST', value: config.host },
    { name: 'OPENRECALL_PORT', value: String(config.port) },
    { name: 'OPENRECALL_DEBUG', value: String(config.debug) },
    { name: 'OPENRECALL_API_TOKEN', value: secret(config.apiToken) },
    { name: 'OPENRECALL_WORKER_TOKEN', value: secret(config.workerToken) },
    { name: 'OPENRECALL_WORKERS', value: String(config.workers) },
    { name: 'OPENRECALL_OCR_ENGINE', value: config.ocrEngine },
    { name: 'OPENRECALL_REDACT', value: config.redact === 'off' ? 'off (secrets are stored as seen)' : config.redact },
    { name: 'OPENRECALL_PROCESSING_LIFO_THRESHOLD', value: String(config.lifoThreshold) },
    { name: 'OPENRECALL_MAX_ATTEMPTS', value: String(config.maxAttempts) },
    { name: 'OPENRECALL_MAX_UPLOAD_MB', value: mb(config.maxUploadBytes) },
    { name: 'OPENRECALL_MAX_METADATA_MB', value: mb(config.maxMetadataBytes) },
    { name: 'OPENRECALL_MAX_IMAGE_PIXELS', value: String(config.maxImagePixels) },
    { name: 'OPENRECALL_MAX_CONCURRENT_UPLOADS', value: String(config.maxConcurrentUploads) },
    { name: 'OPENRECALL_REQUEST_TIMEOUT_SECONDS', value: String(config.requestTimeoutMs / 1000) },
    { name: 'OPENRECALL_SHUTDOWN_GRACE_SECONDS', value: String(config.shutdownGraceMs / 1000) },
    { name: 'OPENRECALL_RETENTION_DAYS', value: config.retentionDays ? String(config.retentionDays) : '0 (keep forever)' },
    { name: 'OPENRECALL_MAX_STORAGE_GB', value: config.maxStorageBytes ? String(config.maxStorageBytes / 1024 ** 3) : '0 (no budget)' },
    { name: 'OPENRECALL_VLM_URL', value: vlm.url ? safeUrl(vlm.url) : 'not set (no AI descriptions)' },
    { name: 'OPENRECALL_VLM_MODEL', value: vlm.model || 'not set' },
    { name: 'OPENRECALL_VLM_API_KEY', value: secret(vlm.apiKey) },
    { name: 'OPENRECALL_SHOW_AI_DESCRIPTION', value: String(config.ai.showAiDescription) },
    { name: 'OPENRECALL_EMBEDDING_PROVIDER', value: embedding.provider },
    { name: 'OPENRECALL_EMBEDDING_URL', value: embedding.url ? safeUrl(embedding.url) : 'not set' },
    { name: 'OPENRECALL_EMBEDDING_MODEL', value: embedding.model || 'not set' },
    { name: 'OPENRECALL_EMBEDDING_API_KEY', value: secret(embedding.apiKey) },
  ];
}
