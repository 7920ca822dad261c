import { parseIsoTime } from '../api/v1-time.js';
import { ApiError } from '../errors.js';
import { ReceivedImage } from '../images/received-image.js';

/** The Python MyRecall client's upload: `file` (the screenshot) and `metadata`, a JSON string. */
export const PYTHON_UPLOAD_FIELDS = ['file', 'metadata'] as const;

/** The upload form's own `text` field's limit (api/upload.ts): longer screen text is cut, as /v1/ingest does. */
const MAX_TEXT_CHARS = 64 * 1024;

const invalid = (message: string) => new ApiError(400, `invalid field 'metadata': ${message}`, 'INVALID_FIELD');

function text(metadata: Record<string, unknown>, key: string, maxLength: number): string {
  const value = metadata[key];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalid(`'${key}' must be a string, not ${Array.isArray(value) ? 'an array' : typeof value}`);
  if (value.length > maxLength) throw invalid(`'${key}' is longer than ${maxLength} characters`);
  return value;
}

/**
 * Turns the Python client's form into this server's (`image`, `timestamp`, `active_app`, `active_window`), in
 * place, before validation; any other form is left as it is. Bad metadata is refused before anything is stored.
 */
export function normalisePythonUpload(body: Record<string, unknown> | undefined): void {
  if (!body || !PYTHON_UPLOAD_FIELDS.some((name) => name in body)) return;
  // MyRecall v3's form sends its capture_id beside them: the idempotency key this form has too.
  const others = Object.keys(body).filter((name) => !(PYTHON_UPLOAD_FIELDS as readonly string[]).includes(name) && name !== 'capture_id');
  if (others.length) {
    throw new ApiError(400, `unknown field '${others[0]!.slice(0, 64)}': the Python client's upload takes file, metadata and capture_id only`, 'UNKNOWN_FIELD');
  }
  if (!('file' in body)) throw new ApiError(400, "missing field 'file'", 'MISSING_FIELD');
  if (!(body.file instanceof ReceivedImage)) throw new ApiError(400, "invalid field 'file': must be a single uploaded file", 'INVALID_FIELD');
  if (!('metadata' in body)) throw new ApiError(400, "missing field 'metadata'", 'MISSING_FIELD');
  const raw = body.metadata;
  if (typeof raw !== 'string') throw invalid('must be a JSON text field, not a file');
  let metadata: unknown;
  try {
    metadata = JSON.parse(raw);
  } catch {
    throw invalid('not valid JSON');
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw invalid('must be a JSON object');
  const fields = metadata as Record<string, unknown>;
  const timestamp = unixSeconds(fields.timestamp);
  const app = text(fields, 'app_name', 512);
  const title = text(fields, 'window_title', 4096) || text(fields, 'window_name', 4096);
  // MyRecall v3's own text of the screen and its browser's URL, as this form's optional fields.
  const screenText = fields.text_source === 'accessibility' ? text(fields, 'text', Number.POSITIVE_INFINITY).slice(0, MAX_TEXT_CHARS) : '';
  const url = text(fields, 'browser_url', 4096);

  const image = body.file;
  for (const name of PYTHON_UPLOAD_FIELDS) delete body[name];
  Object.assign(body, { image, timestamp, active_app: app, active_window: title }, screenText ? { text: screenText } : {}, url ? { browser_url: url } : {});
}

/** Unix seconds (the Python client up to 2026-03) or an ISO-8601 time with its offset (MyRecall v3). */
function unixSeconds(timestamp: unknown): number {
  if (timestamp === undefined) throw invalid("missing 'timestamp' (Unix seconds or ISO-8601)");
  if (typeof timestamp === 'string' && /^\d{4}-\d{2}-\d{2}/.test(timestamp.trim())) {
    try {
      return parseIsoTime(timestamp, 'timestamp');
    } catch (error) {
      throw invalid((error as Error).message.replace(/^invalid field /, ''));
    }
  }
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0) {
    throw invalid("'timestamp' must be a number of Unix seconds or an ISO-8601 time");
  }
  return timestamp;
}
