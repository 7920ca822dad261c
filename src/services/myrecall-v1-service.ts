import type { SearchMode, V1FrameContext, V1Health, V1Memory, V1SearchItem, V1SearchQuery, V1SearchResponse } from '../api/index.js';
import { isoTime, parseIsoTime } from '../api/v1-time.js';
import { ApiError, notFound } from '../errors.js';
import type { SearchService } from '../search/search-service.js';
import type { FrameRow, FramesRepository } from '../store/ports.js';
import type { ClientsService } from './clients-service.js';

/** No frame for this long: MyRecall's health calls the data stale. */
const STALE_SECONDS = 5 * 60;
/** GET /v1/frames/latest answers at most this many frames (the newest). */
const LATEST_LIMIT = 200;

const MODES: Record<string, SearchMode> = { fts: 'keyword', vector: 'semantic', hybrid: 'hybrid' };
const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

/** The MyRecall v3 read routes' answers, in that client's shapes, from this server's frames, search and clients. */
export class MyRecallV1Service {
  constructor(
    private readonly frames: FramesRepository,
    private readonly searchService: SearchService,
    private readonly clients: ClientsService,
  ) {}

  async health(): Promise<V1Health> {
    const [newest] = await this.frames.list({ limit: 1 });
    const counts = await this.frames.counts();
    const received = newest?.received_at ?? null;
    const frameStatus = received !== null && Date.now() / 1000 - received < STALE_SECONDS ? 'ok' : 'stale';
    const report = (await this.clients.list()).find((c) => c.self_report?.permission_status)?.self_report ?? null;
    const permission = report?.permission_status ?? null;
    const degraded = counts.failed > 0 || frameStatus !== 'ok' || (permission !== null && permission !== 'granted');
    const message = !degraded
      ? 'healthy, queue normal'
      : permission !== null && permission !== 'granted'
        ? `capture permission: ${permission}`
        : newest === undefined
          ? 'waiting for the first frame'
          : counts.failed > 0
            ? `${counts.failed} frames failed`
            : 'no frame in the last 5 minutes';
    return {
      status: degraded ? 'degraded' : 'ok',
      last_frame_timestamp: newest ? isoTime(newest.timestamp) : null,
      last_frame_ingested_at: received === null ? null : isoTime(received),
      frame_status: frameStatus,
      message,
      capture_permission_status: permission,
      capture_permission_reason: report?.permission_reason ?? null,
      last_permission_check_ts: null,
      queue: { pending: counts.pending, processing: counts.processing, failed: counts.failed },
    };
  }

  async search(query: V1SearchQuery): Promise<V1SearchResponse> {
    const limit = query.limit ?? 20;
    const offset = query.offset ?? 0;
    const wanted = MODES[(query.mode ?? 'hybrid').trim().toLowerCase()] ?? 'hybrid';
    // MyRecall's default is hybrid; without an embedding model here, keyword search answers instead.
    const mode = this.searchService.modes().includes(wanted) ? wanted : undefined;
    const result = await this.searchService.search({
      q: query.q ?? '',
      ...(mode ? { mode } : {}),
      limit,
      offset,
      ...optional('start', query.start_time ? parseIsoTime(query.start_time, 'start_time') : undefined),
      ...optional('end', query.end_time ? parseIsoTime(query.end_time, 'end_time') : undefined),
      ...optional('app', query.app_name?.trim() || undefined),
      ...optional('window', query.window_name?.trim() || undefined),
      ...optional('url', query.browser_url?.trim() || undefined),
    });
    const focused = flag(query.focused, 'focused');
    const includeText = flag(query.include_text, 'include_text') ?? false;
    const data: V1SearchItem[] = [];
    for (const hit of result.results) {
      const row = await this.frames.get(hit.id);
      if (!row) continue; // deleted since the search
      const metadata = clientMetadata(row);
      const rowFocused = typeof metadata.focused === 'boolean' ? metadata.focused : null;
      if (focused !== undefined && rowFocused !== focused) continue;
      data.push({
        ...frameFields(row, metadata),
        focused: rowFocused,
        frame_url: `/v1/frames/${row.id}`,
        embedding_status: null,
        score: hit.score,
        ...(includeText ? { text: shortened(row.text ?? '', query.max_text_length ?? 200) } : {}),
        ...(row.description ? { description: row.description } : {}),
      });
    }
    return { data, pagination: { limit, offset, total: result.total } };
  }

  /** Frames captured after `since`, newest first (the grid's poll for new frames). */
  async latest(since: string | undefined): Promise<V1Memory[]> {
    const after = since?.trim() ? parseIsoTime(since, 'since') : Number.NEGATIVE_INFINITY;
    const rows = await this.frames.list({ limit: LATEST_LIMIT });
    return rows.filter((row) => row.timestamp > after).map(memory);
  }

  async context(id: number): Promise<V1FrameContext> {
    const row = await this.frames.get(id);
    if (!row) throw notFound(`frame ${id}`);
    if (row.status !== 'COMPLETED') throw new ApiError(404, `frame ${id} is not ready for querying (${row.status.toLowerCase()})`, 'NOT_READY');
    const text = row.text ?? '';
    return {
      frame_id: row.id,
      timestamp: isoTime(row.timestamp),
      app_name: row.app,
      window_name: row.title,
      description: row.description ? { narrative: row.description, summary: firstSentence(row.description), tags: [] } : null,
      description_status: row.description ? 'completed' : null,
      text,
      text_source: textSource(row),
      urls: [...new Set([...(text.match(/https?:\/\/[^\s<>"']+/g) ?? []), ...(row.browser_url ? [row.browser_url] : [])])],
      browser_url: row.browser_url ?? null,
      status: row.status.toLowerCase(),
    };
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function flag(value: string | undefined, field: string): boolean | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new ApiError(400, `invalid field '${field}': use true or false`, 'INVALID_FIELD');
}

function clientMetadata(row: FrameRow): Record<string, unknown> {
  if (!row.client_metadata) return {};
  try {
    const parsed = JSON.parse(row.client_metadata) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const textSource = (row: FrameRow) => row.text_source ?? 'ocr';

function deviceName(row: FrameRow, metadata: Record<string, unknown>): string {
  return typeof metadata.device_name === 'string' && metadata.device_name ? metadata.device_name : `monitor_${row.monitor ?? 0}`;
}

function frameFields(row: FrameRow, metadata: Record<string, unknown>) {
  return {
    frame_id: row.id,
    timestamp: isoTime(row.timestamp),
    text_source: textSource(row),
    app_name: row.app,
    window_name: row.title,
    browser_url: row.browser_url ?? null,
    device_name: deviceName(row, metadata),
  };
}

function memory(row: FrameRow): V1Memory {
  const metadata = clientMetadata(row);
  const text = row.text ?? '';
  const timestamp = isoTime(row.timestamp);
  return {
    id: row.id,
    frame_id: row.id,
    capture_id: row.capture_id,
    timestamp,
    app: row.app ?? '',
    title: row.title ?? '',
    app_name: row.app ?? '',
    window_title: row.title ?? '',
    status: row.status,
    filename: `${timestamp}.jpg`,
    text_source: row.text === null ? '' : textSource(row),
    text_length: text.length,
    ocr_text: text,
    ocr_text_preview: text.slice(0, 100),
    browser_url: row.browser_url ?? null,
    capture_trigger: typeof metadata.capture_trigger === 'string' ? metadata.capture_trigger : '',
    device_name: deviceName(row, metadata),
    error_message: row.last_error ?? '',
    description_status: row.description ? 'completed' : '',
    visibility_status: row.status === 'COMPLETED' ? 'queryable' : row.status === 'FAILED' ? 'failed' : 'pending',
  };
}

/** MyRecall's shortening: the start and the end of the text around a count of what was left out. */
function shortened(text: string, max: number): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}...${text.length - max} chars...${text.slice(text.length - half)}`;
}

function firstSentence(text: string): string {
  return /^[^.!?\n]*[.!?]?/.exec(text)?.[0]?.trim() ?? text;
}
