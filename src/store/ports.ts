/**
 * The repository interfaces: everything the rest of the program may ask of a store. Two implementations
 * exist (store/sqlite: the embedded default; store/postgres: OPENRECALL_DATABASE_URL=postgres://…), and the
 * same test suites run against both. Every method is async: PostgreSQL answers over the network.
 */
import type { TimelineSummary } from '../api/timeline.js';

// ---------------------------------------------------------------------------------------------------------
// Frames and the queue (the `entries` table)

export const STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'] as const;
export type FrameStatus = (typeof STATUSES)[number];
export type ProcessingMode = 'LIFO' | 'FIFO';

export interface FrameRow {
  id: number;
  app: string | null;
  title: string | null;
  text: string | null;
  timestamp: number;
  description: string | null;
  status: FrameStatus;
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
  /** 'accessibility' when the client sent its own text of the screen (MyRecall v3), else null. */
  text_source?: string | null;
  browser_url?: string | null;
  /** The client's text as sent; the OCR stage makes the frame's `text` from it (the one way text enters). */
  supplied_text?: string | null;
  /** Every metadata field the client sent, as JSON text (MyRecall v3 keeps unknown fields). */
  client_metadata?: string | null;
  /** The redaction rules version (src/redaction) applied to the frame's text and pixels; null: never redacted. */
  redaction_version: number | null;
  /** What was redacted (kinds, rules, screen boxes; never values), JSON of a RedactionRecord. */
  redactions: string | null;
}

/** Columns a pipeline stage may write back. */
export type FramePatch = Partial<
  Pick<FrameRow, 'text' | 'description' | 'image_path' | 'width' | 'height' | 'bytes' | 'supplied_text' | 'title' | 'redaction_version' | 'redactions'>
>;

/** The FramePatch columns, checked at run time by both stores before a patch becomes SQL. */
export const PATCHABLE_COLUMNS: ReadonlySet<keyof FramePatch> = new Set<keyof FramePatch>([
  'text',
  'description',
  'image_path',
  'width',
  'height',
  'bytes',
  'supplied_text',
  'title',
  'redaction_version',
  'redactions',
]);

export interface NewFrame {
  captureId: string | null;
  timestamp: number;
  app: string;
  title: string;
  monitor: number | null;
  imagePath: string;
  width: number;
  height: number;
  bytes: number;
  receivedAt: number;
  textSource?: string | null;
  browserUrl?: string | null;
  suppliedText?: string | null;
  clientMetadata?: string | null;
  /** The upload's bytes check (images/upload-check.ts) when its file's name does not carry it (SQLite keeps it). */
  uploadCheck?: string | null;
}

export interface QueueCounts {
  pending: number;
  processing: number;
  completed: number;
  failed: number;
}

export interface ListFilter {
  limit: number;
  beforeId?: number;
  afterId?: number;
  status?: FrameStatus;
  app?: string;
}

/**
 * Who holds a claimed frame, and for how long. A claim records the worker and the lease expiry; a worker
 * renews the lease while it works. When the lease runs out (the worker died) the frame goes back to PENDING
 * (requeueExpired), and every later write from that worker is refused, so a frame completes once.
 */
export interface Lease {
  workerId: string;
  seconds: number;
}

export const modeFor = (pending: number, lifoThreshold: number): ProcessingMode => (pending > lifoThreshold ? 'LIFO' : 'FIFO');

export interface FramesRepository {
  /**
   * Inserts a PENDING frame. Returns the new id, or the existing id (duplicate=true) for a known capture_id.
   * Resolves once a new row survives a power cut (the client deletes its copy on the answer).
   */
  insertPending(frame: NewFrame): Promise<{ id: number; duplicate: boolean }>;
  findIdByCaptureId(captureId: string): Promise<number | undefined>;
  /** The bytes check kept with an upload (NewFrame.uploadCheck); undefined when none was (or the store keeps none). */
  uploadCheck(id: number): Promise<string | undefined>;
  get(id: number): Promise<FrameRow | undefined>;
  pendingCount(): Promise<number>;
  /**
   * Atomically moves the next PENDING frame (newest first above `lifoThreshold` pending, else oldest first)
   * to PROCESSING under `lease`. No two workers, in any process on any machine, get the same frame.
   */
  claimNext(lifoThreshold: number, lease: Lease): Promise<{ entry: FrameRow; mode: ProcessingMode } | undefined>;
  /** Extends a held lease; false when the lease was lost (expired and re-queued, or the frame deleted). */
  renewLease(id: number, lease: Lease): Promise<boolean>;
  /** The frame, while `workerId` holds it with a lease that has not run out; else undefined (what a worker may touch). */
  heldBy(id: number, workerId: string): Promise<FrameRow | undefined>;
  /**
   * Writes one stage's results. With `workerId`: only while that worker still holds the frame (false when
   * not). Without: a later stage added to a COMPLETED frame (backfill). A new `image_path` is durable when it
   * resolves (the old file is removed next).
   */
  saveResults(id: number, patch: FramePatch, workerId?: string): Promise<boolean>;
  /** PROCESSING → COMPLETED; false (nothing written) when `workerId` no longer holds the frame. */
  complete(id: number, workerId: string): Promise<boolean>;
  /** Records a failed attempt: back to PENDING while attempts remain, else FAILED. Undefined when not held. */
  failAttempt(id: number, error: string, maxAttempts: number, workerId: string): Promise<FrameStatus | undefined>;
  /** Marks a held frame FAILED at once (a permanent error such as a missing image). */
  failPermanently(id: number, error: string, workerId: string): Promise<void>;
  /** A later stage could not be added to a COMPLETED frame (backfill): FAILED with the reason, results kept. */
  failCompleted(id: number, error: string): Promise<void>;
  /** Hands a held, unfinished frame back to the queue (shutdown); the interrupted attempt is not counted. */
  release(id: number, workerId: string): Promise<void>;
  /**
   * Frames whose lease ran out go back to PENDING; one interrupted `crashLimit` times is FAILED instead
   * (it is probably what kills the worker). Frames without a lease (older databases) count as expired.
   */
  requeueExpired(crashLimit: number): Promise<{ requeued: number; failed: number }>;
  /**
   * Start-up recovery of the one embedded processor (SQLite): every PROCESSING frame goes back to PENDING,
   * whatever its lease, since no other worker can exist. Never called with several workers.
   */
  recoverInterrupted(crashLimit: number): Promise<{ requeued: number; failed: number }>;
  counts(): Promise<QueueCounts>;
  /** COMPLETED frames without an AI description (a vision model switched on later), and the newest of them. */
  completedWithoutDescription(): Promise<number>;
  completedWithoutDescriptionIds(limit: number): Promise<number[]>;
  /** COMPLETED frames not redacted with rules `version` (stored before redaction, or by older rules), newest first. */
  unredacted(version: number): Promise<number>;
  unredactedIds(version: number, limit: number): Promise<number[]>;
  oldestPendingReceivedAt(): Promise<number | null>;
  completedSince(since: number): Promise<number>;
  retryFailed(): Promise<number>;
  retryOne(id: number): Promise<boolean>;
  /** Deletes a frame that is not being processed. Returns its image path, or deleted=false. */
  delete(id: number): Promise<{ deleted: boolean; imagePath: string | null }>;
  /** Newest first; after_id pages towards newer frames. */
  list(filter: ListFilter): Promise<FrameRow[]>;
  /** The uploads (screenshots/incoming/…) rows still point at: any other upload file is an orphan. Reads only those rows. */
  referencedUploads(): Promise<Set<string>>;
  /** Whether a frame not stored yet (PENDING, PROCESSING or FAILED: the ones that point at uploads) points at this path. */
  uploadInUse(imagePath: string): Promise<boolean>;
  /** Frames not processed yet (PENDING or PROCESSING) whose image is under the path prefix. */
  unprocessedUploads(prefix: string): Promise<{ id: number; imagePath: string }[]>;
  /**
   * Deletes a PENDING, PROCESSING or FAILED frame that still points at `imagePath`: its upload file is gone (start-up,
   * before any worker runs) or torn (its client's retry), both left by a crash before its 202. False when the frame
   * moved on meanwhile.
   */
  deleteLostUpload(id: number, imagePath: string): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------------------
// Keyword search. The parsed query (never raw text) crosses this boundary; each store turns it into its own
// full-text language (FTS5 MATCH, tsquery) inside store/.

export type TermKind = 'word' | 'phrase' | 'prefix';
export interface Term {
  kind: TermKind;
  /** The term's text as typed (without quotes, minus sign or star). */
  text: string;
}
export interface ParsedQuery {
  include: Term[];
  exclude: Term[];
}

export interface SearchFilters {
  start?: number;
  end?: number;
  /** Exact application name, case-insensitive. */
  app?: string;
  /** Substring of the window title, case-insensitive. */
  window?: string;
  /** Substring of the browser URL the client reported, case-insensitive. */
  url?: string;
  status?: FrameStatus;
  /**
   * The frames passing the filters above, when the caller has them already (`filteredIds`, as a filtered vector
   * search reads them): a store may then look among these only. Never narrower than the filters: the answer is the
   * same with or without it.
   */
  frames?: ReadonlySet<number>;
}

export interface RankedId {
  id: number;
  /** Higher is better; comparable within one result list. */
  score: number;
  timestamp: number;
}

/** Which index found a keyword match: words (stemmed), substrings (trigrams), short terms (LIKE), CJK bigrams. */
export type KeywordSource = 'words' | 'substring' | 'short' | 'cjk';
export interface KeywordCandidate extends RankedId {
  source: KeywordSource;
}

export interface HitRow {
  id: number;
  timestamp: number;
  app: string | null;
  title: string | null;
  status: FrameStatus;
  text: string | null;
  description: string | null;
  browser_url?: string | null;
}

/** What grouping into moments and the vector filters read of a frame: everything a hit has but its text. */
export type FrameKey = Omit<HitRow, 'text' | 'description'>;

/** Matches are counted up to this many: beyond it the exact figure helps nobody and costs time. */
export const COUNT_CAP = 1_000;

export interface SearchRepository {
  /**
   * The first `depth` keyword matches: word matches (stemming, phrases, prefixes, exclusions) first, then
   * substring / short-term / CJK matches when words find fewer than 50. Substring-type scores rank below word
   * scores. `total` is capped at COUNT_CAP.
   */
  keyword(query: ParsedQuery, filters: SearchFilters, sort: 'relevance' | 'time', depth: number): Promise<{ candidates: KeywordCandidate[]; total: number }>;
  /** Frames by filters alone, newest first, minus those matching any excluded term. */
  browse(filters: SearchFilters, limit: number, offset: number, exclude: Term[]): Promise<{ ids: RankedId[]; total: number }>;
  /** Snippets of these candidates, matches between MARK_START and MARK_END (store/snippet-marks.ts). */
  snippets(query: ParsedQuery, candidates: Array<{ id: number; source: KeywordSource }>): Promise<Map<number, string>>;
  rows(ids: number[]): Promise<Map<number, HitRow>>;
  /** The rows without their text: a frame's text is most of its row, and only the frames shown need it. */
  keys(ids: number[]): Promise<Map<number, FrameKey>>;
  /** Which of these frames match any of the terms, by the rule exclusions follow in keyword search and browse. */
  matchingAny(ids: number[], terms: Term[]): Promise<Set<number>>;
  /** Ids of frames passing the filters, when there are at most `max` of them (to restrict a vector search). */
  filteredIds(filters: SearchFilters, max: number): Promise<Set<number> | undefined>;
  apps(): Promise<Array<{ app: string; count: number }>>;
}

// ---------------------------------------------------------------------------------------------------------
// Timeline, activity, embeddings, storage, compaction, clients, settings

export interface TimelineRow {
  id: number;
  timestamp: number;
  app: string | null;
  title: string | null;
  status: FrameStatus;
  width: number | null;
  height: number | null;
}
export type { TimelineSummary };

export interface TimelineRepository {
  summary(): Promise<TimelineSummary>;
  /** `limit` frames starting at position `offset` (0 = oldest), oldest first. */
  page(offset: number, limit: number): Promise<TimelineRow[]>;
  indexOf(row: Pick<TimelineRow, 'id' | 'timestamp'>): Promise<number>;
  /** The frame captured closest to `timestamp` (the earlier one on a tie). */
  nearest(timestamp: number): Promise<TimelineRow | undefined>;
  get(id: number): Promise<TimelineRow | undefined>;
}

export interface ActivityFrame {
  id: number;
  timestamp: number;
  app: string | null;
  title: string | null;
}
export interface ActivityRepository {
  frames(start: number, end: number, limit: number): Promise<ActivityFrame[]>;
}

export interface StoredBits {
  seq: number;
  entryId: number;
  bits: Uint32Array;
}
/** A frame's place in the history's order (capture time, then id). */
export interface FramePosition {
  timestamp: number;
  id: number;
}
export interface MissingVectorsStep {
  found: FramePosition[];
  last: FramePosition | null;
}
export interface EmbeddingsRepository {
  /** Stores a frame's (normalised) vector; null records that the frame had no text to embed. */
  save(entryId: number, model: string, vector: Float32Array | null): Promise<void>;
  has(entryId: number, model: string): Promise<boolean>;
  missingCount(model: string): Promise<number>;
  missingIds(model: string, limit: number): Promise<number[]>;
  /**
   * One bounded step of a walk through the history, newest first, for COMPLETED frames without a vector of this
   * model: of the (at most) `window` COMPLETED frames after `after` in (timestamp, id) descending order (null:
   * from the newest), the first `limit` without one, and the position of the last frame looked at (null: the
   * walk reached the oldest frame). At a year of frames a step costs its window, never the whole history.
   */
  missingIdsAfter(model: string, after: FramePosition | null, window: number, limit: number): Promise<MissingVectorsStep>;
  /** Sign bits stored after `seq` (at most `limit` of them, in seq order), for the in-process index to catch up. */
  bitsSince(model: string, seq: number, limit: number): Promise<StoredBits[]>;
  /** The frame whose vector of this model has sequence number `seq` (the vector index checks its file with it). */
  entryAtSeq(model: string, seq: number): Promise<number | undefined>;
  vectors(model: string, entryIds: number[]): Promise<Map<number, Float32Array>>;
}

/** The bigram index of CJK OCR text. */
export interface CjkIndexRepository {
  save(entryId: number, text: string | null): Promise<void>;
}

export interface DeletableFrame {
  id: number;
  timestamp: number;
  image_path: string | null;
  bytes: number | null;
  /** 1 when the frame has been processed (its image left screenshots/incoming, so a thumbnail exists). */
  processed: number;
}
export interface StorageTotals {
  imageBytes: number;
  frames: number;
  processedFrames: number;
  unfinishedFrames: number;
}
export interface StorageRepository {
  oldestTimestamp(): Promise<number | null>;
  totals(): Promise<StorageTotals>;
  deletable(before: number, after: { timestamp: number; id: number }, limit: number): Promise<DeletableFrame[]>;
  deleteFinished(ids: number[]): Promise<DeletableFrame[]>;
  existing(ids: number[]): Promise<Set<number>>;
  withoutBytes(limit: number): Promise<Array<{ id: number; image_path: string }>>;
  setBytes(sizes: Array<{ id: number; bytes: number }>): Promise<void>;
}

export interface CompactionCandidate {
  id: number;
  timestamp: number;
  monitor: number | null;
  image_path: string;
  bytes: number | null;
}
export interface NewLayer {
  id: number;
  path: string;
  bytes: number;
  sha256: string;
}
export interface CompactedFrame {
  entryId: number;
  monitor: number | null;
  originalPath: string;
  originalBytes: number;
  manifestPath: string;
  manifestBytes: number;
  layer: NewLayer | undefined;
  layerIds: number[];
}
export interface LayerRow {
  id: number;
  path: string;
  bytes: number;
  sha256: string;
}
export interface CompactionTotals {
  compacted_frames: number;
  stored_bytes: number;
  original_bytes: number;
}
export interface CompactionRepository {
  candidates(before: number, after: { timestamp: number; id: number }, limit: number): Promise<CompactionCandidate[]>;
  countCandidates(before: number): Promise<number>;
  lastCompacted(monitor: number | null): Promise<{ id: number; path: string } | undefined>;
  /** Durable commit (survives a power cut) of the row switch; false when the row or a shared layer changed. */
  commit(frame: CompactedFrame, now: number): Promise<boolean>;
  committed(entryId: number, manifestPath: string): Promise<boolean>;
  /** A frame no longer uses its compacted form (it was redacted into a plain file): its layer references go. */
  release(entryId: number): Promise<void>;
  entryExists(entryId: number): Promise<boolean>;
  unreferencedLayers(limit: number): Promise<LayerRow[]>;
  deleteUnreferencedLayer(id: number): Promise<boolean>;
  /** A layer file was rewritten in place (redaction painted tiles no frame shows any more): its new size and checksum. */
  layerRewritten(id: number, bytes: number, sha256: string): Promise<void>;
  liveLayers(): Promise<LayerRow[]>;
  framesUsing(layerId: number): Promise<number[]>;
  compactedFrames(): Promise<Array<{ id: number; path: string }>>;
  totals(): Promise<CompactionTotals>;
}

export interface ClientRow {
  id: string;
  kind: string;
  host: string | null;
  version: string | null;
  address: string | null;
  first_seen: number;
  last_seen: number;
  heartbeat_seconds: number | null;
  paused: number | null;
  state: string | null;
  buffer_bytes: number | null;
  buffer_items: number | null;
  desired_paused: number | null;
  desired_revision: number | null;
  /** The client's last heartbeat body as JSON text, when it sends more than this table's columns (MyRecall v3). */
  report?: string | null;
}
export interface ClientReport {
  id: string;
  kind: string;
  host: string | null;
  version: string | null;
  address: string | null;
  heartbeat_seconds: number | null;
  paused: boolean | null;
  state: string | null;
  buffer_bytes: number | null;
  buffer_items: number | null;
  report?: string | null;
}
export interface ClientsRepository {
  list(): Promise<ClientRow[]>;
  get(id: string): Promise<ClientRow | undefined>;
  lastSeen(): Promise<number | null>;
  report(client: ClientReport, now: number): Promise<ClientRow>;
  desirePaused(id: string, paused: boolean, revision: number): Promise<boolean>;
  /** Removes clients last seen before `seenBefore` and all but the `keep` most recently seen; returns how many went. */
  prune(keep: number, seenBefore: number): Promise<number>;
}

export interface StoredSetting {
  key: string;
  /** JSON text. */
  value: string;
  revision: number;
  updated_at: number;
}
export interface SettingsRepository {
  all(): Promise<StoredSetting[]>;
  nextRevision(): Promise<number>;
  /** Writes several settings at once, under one new revision. */
  set(values: Record<string, unknown>): Promise<number>;
}

/**
 * Old text that redaction overwrote can linger in the database's files (free pages, the WAL, deleted entries of
 * the full-text indexes, PostgreSQL's dead tuples) until they are rewritten: `scrub()` does that, once the
 * redaction of old frames is done. The mark says a scrub is due, and survives a crash.
 */
/** Background upkeep of an index search reads beside the rows (store/postgres/pg-word-index-repository.ts). */
export interface WordIndexRepository {
  /** Builds or repairs one segment; resolves to false, having done nothing, when the index is up to date. */
  step(): Promise<boolean>;
  /** Rebuilds every segment holding a changed or deleted frame, so that none of their old words stays packed. */
  repairAll(): Promise<void>;
}

export interface MaintenanceRepository {
  /** Redaction overwrote stored text: a scrub is due. */
  markScrubDue(): Promise<void>;
  /** The mark (an opaque token), or undefined when no scrub is due. */
  scrubDue(): Promise<number | undefined>;
  /**
   * SQLite: merges the FTS indexes (dropping deleted entries), VACUUMs and truncates the WAL; PostgreSQL:
   * VACUUMs the tables with text. Clears the mark `due` unless redaction marked it again meanwhile.
   */
  scrub(due: number): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// The store as a whole

/**
 * The store cannot be opened: the database is unreachable or refuses us, or its schema is newer than this
 * program. The message is one line for the user (naming the setting to fix, never a password).
 */
export class StoreOpenError extends Error {
  override readonly name: string = 'StoreOpenError';
}

/** Both stores' words for a database written by a newer OpenRecall (which is then left untouched). */
export const newerSchemaMessage = (found: number, known: number) =>
  `database schema version ${found} is newer than this OpenRecall (knows up to ${known}); upgrade OpenRecall`;

/** The database cannot be reached right now (PostgreSQL down, a network cut): the HTTP layer answers 503. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  /**
   * False when the statement never reached the database (no connection could be made); true when the
   * connection broke after it was sent, so it may have been committed.
   */
  readonly maybeCommitted: boolean;

  constructor(message: string, options: ErrorOptions & { maybeCommitted?: boolean } = {}) {
    super(message, options);
    this.maybeCommitted = options.maybeCommitted ?? true;
  }
}

/**
 * `openrecall lock` as the workers sharing the database see it: a durable mark (a worker started later sees it),
 * and a notification when it changes.
 */
export interface MemoryLockRepository {
  /** Records the state and wakes every worker listening. */
  set(locked: boolean): Promise<void>;
  locked(): Promise<boolean>;
  /** Calls `listener` when the state may have changed (also after a lost connection: a change may have been missed). */
  onChange(listener: () => void): Promise<() => Promise<void>>;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly frames: FramesRepository;
  readonly search: SearchRepository;
  readonly timeline: TimelineRepository;
  readonly activity: ActivityRepository;
  readonly embeddings: EmbeddingsRepository;
  readonly cjkIndex: CjkIndexRepository;
  readonly storage: StorageRepository;
  readonly compaction: CompactionRepository;
  readonly clients: ClientsRepository;
  readonly settings: SettingsRepository;
  readonly maintenance: MaintenanceRepository;
  /** PostgreSQL's packed word index, which the idle processor builds (SQLite's FTS5 index needs no such work). */
  readonly wordIndex?: WordIndexRepository;
  /**
   * The memory's lock as `openrecall worker` processes see it (PostgreSQL). Absent with SQLite: its one processor
   * is the server's child, which exits at the lock.
   */
  readonly memoryLock?: MemoryLockRepository;
  /**
   * Calls `listener` when frames become PENDING anywhere (PostgreSQL: LISTEN/NOTIFY, so workers on other
   * machines wake at once). SQLite has one processor, which the server wakes over IPC: a no-op there.
   * Returns the unsubscribe function.
   */
  onPendingFrames(listener: () => void): Promise<() => Promise<void>>;
  /**
   * Runs `task` only if no other process holds the named lock (PostgreSQL: an advisory lock, so retention
   * runs on one server at a time). Resolves to false, without running it, when the lock is held elsewhere.
   */
  withExclusiveLock(name: string, task: () => Promise<void>): Promise<boolean>;
  close(): Promise<void>;
}
