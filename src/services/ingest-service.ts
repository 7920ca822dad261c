import { ApiError } from '../errors.js';
import { type ImageFormat, ImageFormatError, type ImageInfo } from '../images/image-format.js';
import type { ImageStore } from '../images/image-store.js';
import { ReceivedImage } from '../images/received-image.js';
import { checkText, parseCheckText, uploadCheckOf } from '../images/upload-check.js';
import { isDiskFull } from '../files/disk-full.js';
import { type RedactionPolicy, redactText } from '../redaction/index.js';
import { type FramesRepository, modeFor, type ProcessingMode, StoreUnavailableError } from '../store/ports.js';

export interface Upload {
  /** Already on disk as a part file (receive()); accept() commits or discards it. */
  image: ReceivedImage;
  timestamp: number;
  app: string;
  title: string;
  captureId?: string;
  monitor?: number;
  /** The screen's text as the client read it (accessibility); the OCR stage makes the frame's text from it. */
  suppliedText?: string;
  /** Where suppliedText came from: 'accessibility' (MyRecall v3) or 'client'. */
  textSource?: string;
  browserUrl?: string;
  /** Every metadata field the client sent, as JSON text. */
  clientMetadata?: string;
  /** Refuse any other image format (MyRecall v3 sends JPEG only, and its server refuses the rest). */
  onlyFormat?: ImageFormat;
}

export type IngestResult = { status: 'accepted' | 'duplicate'; frameId: number };

export interface IngestOptions {
  maxImagePixels: number;
  lifoThreshold: number;
  /** How far a capture time may lie in the future (clock skew between client and server). */
  maxClockSkewSeconds: number;
  /** The redaction policy (OPENRECALL_REDACT) window titles go through before they are stored; null: off. */
  redaction?: RedactionPolicy | null;
  /** Called with the size of the file written for each accepted upload. */
  onAccepted: (bytes: number) => void;
  /**
   * Write each upload in place, in a file of screenshots/incoming whose name was made durable ahead (no rename, no
   * folder fsync), and fsync it beside the row's own sync (SQLite's WAL fsync) instead of before the insert: one
   * wait for the two. A power cut before both finished can leave a row whose file is torn; its client got no 202
   * and still holds the frame, and its retry replaces a row whose file does not match the check kept in the row
   * (replacesTornUpload()), so the retry is stored rather than answered "duplicate". Only for a store whose
   * start-up runs before any worker can claim (one server: SQLite) and that keeps the check
   * (FramesRepository.uploadCheck).
   */
  uploadsInPlace?: boolean;
}

const EARLIEST_TIMESTAMP = 946_684_800; // 2000-01-01

/**
 * Accepting a frame is cheap on purpose: a structural check of the bytes, one file write, one row.
 * Decoding, re-encoding and OCR happen later in the worker.
 *
 * A 202 is durable (the client deletes its copy on it): the file is fsynced and renamed, then its folder fsynced,
 * before the insert; or (`uploadsInPlace`) the file, written in place, is fsynced beside the row's own sync. The
 * answer waits for insertPending (the row survives a power cut) and the file's fsync.
 */
export class IngestService {
  /**
   * Titles and addresses the rules found nothing in: a window's title comes again with each of its frames, and
   * running every rule over it is a large part of an upload's CPU. Only clean texts are kept, so no secret stays
   * in memory because of this.
   */
  private readonly clean = new RecentSet(1024);

  constructor(
    private readonly frames: FramesRepository,
    private readonly images: ImageStore,
    private readonly options: IngestOptions,
  ) {}

  /** Writes an uploaded file to disk as it arrives; accept() then decides whether it is kept. */
  receive(chunks: AsyncIterable<Buffer>): Promise<ReceivedImage> {
    return ReceivedImage.receive(this.images, chunks, { inPlace: this.options.uploadsInPlace === true });
  }

  async accept(upload: Upload): Promise<IngestResult> {
    try {
      return await this.store(upload);
    } finally {
      upload.image.discard(); // a no-op once committed
    }
  }

  private async store(upload: Upload): Promise<IngestResult> {
    if (upload.captureId !== undefined) {
      const existing = await this.frames.findIdByCaptureId(upload.captureId);
      if (existing !== undefined && !(await this.replacesTornUpload(existing))) return { status: 'duplicate', frameId: existing };
    }
    this.checkTimestamp(upload.timestamp);
    const info = this.inspect(upload.image, upload.onlyFormat);

    // A title shows what a window holds ("Reset password – token=…"): it is redacted before it is kept anywhere.
    const title = await this.redacted(withoutControlCharacters(upload.title));
    // The same for what the client read off the screen itself (accessibility text) and the page's address.
    const suppliedText = upload.suppliedText === undefined ? undefined : await this.redacted(upload.suppliedText);
    const browserUrl = upload.browserUrl === undefined ? undefined : await this.redacted(withoutControlCharacters(upload.browserUrl));

    const inPlace = upload.image.inPlace;
    let imagePath: string;
    let fileSynced: Promise<void>;
    try {
      ({ path: imagePath, synced: fileSynced } = await upload.image.commit(info));
      if (!inPlace) await this.images.syncIncoming(); // the rename
    } catch (error) {
      throw storageError(error);
    }
    const bytes = upload.image.bytes;
    let inserted: { id: number; duplicate: boolean };
    try {
      // Renamed uploads carry their check in their name; one written in place keeps it in its row.
      const uploadCheck = inPlace ? checkText(upload.image.check()) : null;
      const insert = this.frames.insertPending({
        captureId: upload.captureId ?? null,
        timestamp: upload.timestamp,
        app: withoutControlCharacters(upload.app),
        title,
        monitor: upload.monitor ?? null,
        imagePath,
        width: info.width,
        height: info.height,
        bytes,
        receivedAt: Date.now() / 1000,
        textSource: upload.textSource ?? null,
        browserUrl: browserUrl ?? null,
        // Stored aside (redacted, like the title), never as the frame's text: only the OCR stage writes that.
        suppliedText: suppliedText ?? null,
        clientMetadata: upload.clientMetadata ?? null,
        uploadCheck,
      });
      // An upload written in place is fsynced while the row waits for its batch's commit and the WAL's fsync
      // (either order is safe: see uploadsInPlace).
      inserted = await insert;
    } catch (error) {
      // A connection that broke after the insert was sent may have committed the row: then its file must stay
      // (the client's retry with the same capture_id is answered as a duplicate of it). If not, it is an orphan
      // that a later start removes.
      if (!(error instanceof StoreUnavailableError && error.maybeCommitted)) this.images.removeSync(imagePath);
      throw storageError(error);
    }
    if (inserted.duplicate) {
      await fileSynced.catch(() => undefined); // its descriptor is closed before the file goes
      this.images.removeSync(imagePath); // the same capture_id won a race with this request
      return { status: 'duplicate', frameId: inserted.id };
    }
    try {
      await fileSynced;
    } catch (error) {
      // The bytes may not survive a power cut (a failed fsync can drop them from the page cache), so the row goes
      // with its file: the client's retry is stored anew rather than answered as a duplicate of this copy.
      if (await this.frames.deleteLostUpload(inserted.id, imagePath).catch(() => false)) this.images.removeSync(imagePath);
      throw storageError(error);
    }
    this.options.onAccepted(bytes);
    return { status: 'accepted', frameId: inserted.id };
  }

  /**
   * Whether the frame `id` (a retry's capture_id) is an upload a power cut left torn: its row was committed beside its
   * file's fsync (uploadsInPlace), so its client got no 202 and sent it again. Such a row is deleted with its file and
   * the retry stored as new. Checked on retries only: the file is read once, against the check kept in its row (or in its name).
   */
  private async replacesTornUpload(id: number): Promise<boolean> {
    const frame = await this.frames.get(id);
    if (!frame?.image_path || !this.images.isIncoming(frame.image_path) || frame.status === 'COMPLETED') return false;
    const check = uploadCheckOf(frame.image_path) ?? parseCheckText(await this.frames.uploadCheck(id));
    if (!check || (await this.images.holdsUpload(frame.image_path, check))) return false;
    // Processed meanwhile (the row no longer points at this upload): a duplicate after all.
    if (!(await this.frames.deleteLostUpload(id, frame.image_path))) return false;
    this.images.removeSync(frame.image_path);
    return true;
  }

  private async redacted(text: string): Promise<string> {
    const policy = this.options.redaction;
    if (!policy) return text;
    if (this.clean.has(text)) return text;
    try {
      const redacted = await redactText(text, policy);
      if (redacted.findings.length === 0) this.clean.add(text);
      return redacted.text;
    } catch (error) {
      // Nothing is stored unredacted: the client keeps the frame and retries (503 is retried).
      throw new ApiError(503, `the upload's text could not be redacted: ${(error as Error).message}`, 'REDACTION_FAILED');
    }
  }

  /** The queue as an accepted upload left it (debug answers only: a count is a round trip to the database). */
  async queueInfo(): Promise<{ queueSize: number; mode: ProcessingMode }> {
    const queueSize = await this.frames.pendingCount();
    return { queueSize, mode: modeFor(queueSize, this.options.lifoThreshold) };
  }

  private checkTimestamp(timestamp: number): void {
    const latest = Date.now() / 1000 + this.options.maxClockSkewSeconds;
    if (timestamp < EARLIEST_TIMESTAMP || timestamp > latest) {
      throw new ApiError(
        400,
        `invalid field 'timestamp': ${timestamp} is not a plausible capture time (Unix seconds between 2000-01-01 and now)`,
        'INVALID_FIELD',
      );
    }
  }

  private inspect(image: ReceivedImage, onlyFormat?: ImageFormat): ImageInfo {
    try {
      const info = image.info();
      if (onlyFormat && info.format !== onlyFormat) {
        throw new ApiError(400, `invalid field 'file': must be ${onlyFormat.toUpperCase()}, not ${info.format.toUpperCase()}`, 'INVALID_FIELD');
      }
      if (info.width * info.height > this.options.maxImagePixels) {
        throw new ApiError(413, `image is ${info.width}x${info.height} pixels; the limit is ${this.options.maxImagePixels} pixels`, 'IMAGE_TOO_LARGE');
      }
      return info;
    } catch (error) {
      if (error instanceof ImageFormatError && onlyFormat) {
        throw new ApiError(400, `invalid field 'file': must be a ${onlyFormat.toUpperCase()} image (${error.message})`, 'INVALID_FIELD');
      }
      if (error instanceof ImageFormatError) {
        throw new ApiError(error.statusCode, `invalid field 'image': ${error.message}`, error.statusCode === 415 ? 'UNSUPPORTED_IMAGE' : 'INVALID_IMAGE');
      }
      throw storageError(error);
    }
  }
}

/** A set that forgets its oldest member past `limit`. */
class RecentSet {
  private readonly members = new Set<string>();
  constructor(private readonly limit: number) {}

  has(value: string): boolean {
    return this.members.has(value);
  }

  add(value: string): void {
    if (value.length > 1024) return; // long texts rarely repeat, and must not make this large
    this.members.add(value);
    if (this.members.size > this.limit) this.members.delete(this.members.values().next().value as string);
  }
}

/** Control characters have no business in a title, and the search highlighter uses two of them as markers. */
export function withoutControlCharacters(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

/** A full disk is the server's temporary problem, not the frame's: 507, which clients retry. */
export function storageError(error: unknown): Error {
  if (isDiskFull(error)) {
    return new ApiError(507, 'the server is out of disk space: nothing was stored; free some space (the upload can be retried as is)', 'INSUFFICIENT_STORAGE');
  }
  return error as Error;
}
