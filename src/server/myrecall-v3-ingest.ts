import { parseIsoTime } from '../api/v1-time.js';
import type { V1IngestForm } from '../api/v1.js';
import { ApiError } from '../errors.js';
import { ReceivedImage } from '../images/received-image.js';
import type { Upload } from '../services/ingest-service.js';

/** MyRecall's own limit on the screenshot. */
export const V1_MAX_FILE_BYTES = 10 * 1024 * 1024;
/** Longest client text kept (a page's accessibility text; beyond it, the text is cut). */
const MAX_TEXT_CHARS = 1_000_000;

const invalid = (message: string) => new ApiError(400, `invalid field 'metadata': ${message}`, 'INVALID_FIELD');

function optionalString(metadata: Record<string, unknown>, key: string, maxLength: number): string | undefined {
  const value = metadata[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`'${key}' must be a string, not ${Array.isArray(value) ? 'an array' : typeof value}`);
  if (value.length > maxLength) throw invalid(`'${key}' is longer than ${maxLength} characters`);
  return value;
}

function time(metadata: Record<string, unknown>, key: string): number | undefined {
  const value = metadata[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value; // Unix seconds, as older clients sent
  if (typeof value !== 'string') throw invalid(`'${key}' must be an ISO-8601 time`);
  try {
    return parseIsoTime(value, key);
  } catch (error) {
    throw invalid((error as Error).message.replace(/^invalid field /, ''));
  }
}

/** "monitor_1" (MyRecall's names), or a bare number: that monitor; another name is kept as the device's name only. */
function monitorOf(deviceName: string | undefined): number | undefined {
  const match = deviceName === undefined ? null : /^(?:monitor_?|display_?)?(\d{1,3})$/i.exec(deviceName);
  const index = match ? Number(match[1]) : Number.NaN;
  return Number.isInteger(index) && index <= 255 ? index : undefined;
}

/**
 * The client's own text of the screen: `text` with `text_source: "accessibility"` (else the accessibility block's
 * `text_content`). Undefined for an OCR-only frame.
 */
function accessibilityText(metadata: Record<string, unknown>): string | undefined {
  if (metadata.text_source !== 'accessibility') return undefined;
  const block = metadata.accessibility;
  const fromBlock = block && typeof block === 'object' && !Array.isArray(block) ? (block as Record<string, unknown>).text_content : undefined;
  const text = typeof metadata.text === 'string' ? metadata.text : typeof fromBlock === 'string' ? fromBlock : undefined;
  return text?.slice(0, MAX_TEXT_CHARS);
}

/**
 * Every field as sent, minus the copies of the screen's text (`text`, the accessibility tree and its text): the
 * text goes through the OCR stage, the one place text enters a frame, and must not be kept a second time beside it.
 */
function keptMetadata(metadata: Record<string, unknown>): string {
  const { text: _text, accessibility, ...rest } = metadata;
  if (accessibility && typeof accessibility === 'object' && !Array.isArray(accessibility)) {
    const { tree_json: _tree, text_content: _content, ...details } = accessibility as Record<string, unknown>;
    return JSON.stringify({ ...rest, accessibility: details });
  }
  return JSON.stringify(accessibility === undefined ? rest : { ...rest, accessibility });
}

/** The v3 form (validated by V1IngestForm) as this server's Upload; bad metadata is refused before anything is stored. */
export function uploadFromV1Form(form: V1IngestForm): Upload {
  if (!(form.file instanceof ReceivedImage)) throw new ApiError(400, "invalid field 'file': must be a single uploaded file", 'INVALID_FIELD');
  const image = form.file;
  if (image.bytes > V1_MAX_FILE_BYTES) {
    throw new ApiError(413, `invalid field 'file': ${image.bytes} bytes; at most 10 MB`, 'PAYLOAD_TOO_LARGE');
  }
  const raw = form.metadata.trim();
  let parsed: unknown = {};
  if (raw) {
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw invalid('not valid JSON');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('must be a JSON object');
  const metadata = parsed as Record<string, unknown>;

  const timestamp = time(metadata, 'timestamp');
  const eventTime = time(metadata, 'event_ts');
  const captured = timestamp ?? eventTime;
  if (captured === undefined) throw invalid("missing 'timestamp' (ISO-8601)");
  const app = optionalString(metadata, 'app_name', 512) ?? optionalString(metadata, 'active_app', 512) ?? '';
  const title = optionalString(metadata, 'window_name', 4096) ?? optionalString(metadata, 'active_window', 4096) ?? '';
  optionalString(metadata, 'capture_trigger', 64);
  const device = optionalString(metadata, 'device_name', 128);
  const browserUrl = optionalString(metadata, 'browser_url', 4096);
  const text = accessibilityText(metadata);
  const monitor = monitorOf(device);

  return {
    image,
    timestamp: captured,
    app,
    title,
    captureId: form.capture_id.toLowerCase(),
    ...(monitor === undefined ? {} : { monitor }),
    ...(text === undefined ? {} : { suppliedText: text, textSource: 'accessibility' }),
    ...(browserUrl ? { browserUrl } : {}),
    clientMetadata: keptMetadata(metadata),
    onlyFormat: 'jpeg',
  };
}
