import { decodeGreyscale as decode } from '../images/codec.js';
import type { FrameFiles } from '../images/frame-files.js';
import { type FramePatch, type FrameRow, StoreUnavailableError } from '../store/ports.js';

/** An error that retrying cannot fix (the image is gone or cannot be decoded): the frame fails at once. */
export class PermanentStageError extends Error {}

export interface GreyImage {
  data: Buffer;
  width: number;
  height: number;
}

/** The frame's lease was lost (it expired and another worker took the frame): this worker must drop it. */
export class LeaseLostError extends Error {
  constructor(id: number) {
    super(`frame ${id}: lease lost, another worker owns it now`);
  }
}

/** One frame moving through the pipeline. Stages read the row and the image, and record results. */
export class ClaimedFrame {
  private grey?: Promise<GreyImage>;

  constructor(
    public row: FrameRow,
    readonly files: FrameFiles,
    /** Persists a stage's results at once, so a later stage's failure does not lose them; false when refused. */
    private readonly persist: (patch: FramePatch) => Promise<boolean>,
  ) {}

  /** Throws LeaseLostError when the store refuses the write (this worker no longer holds the frame). */
  async save(patch: FramePatch): Promise<void> {
    if (!(await this.persist(patch))) throw new LeaseLostError(this.row.id);
    this.row = { ...this.row, ...patch };
  }

  async imageBytes(): Promise<Buffer> {
    const relative = this.row.image_path;
    if (!relative) throw new PermanentStageError('image not found');
    try {
      // A compacted frame (a backfill stage on an old frame) comes rebuilt as a PNG.
      return await this.files.readFrame(relative);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new PermanentStageError('image not found');
      throw error;
    }
  }

  /** The frame as 8-bit greyscale pixels, decoded once (off the event loop, by libvips) and shared by stages. */
  greyscale(): Promise<GreyImage> {
    this.grey ??= this.imageBytes().then((bytes) => decodeGreyscale(bytes));
    return this.grey;
  }

  provideGreyscale(image: GreyImage): void {
    this.grey = Promise.resolve(image);
  }
}

export async function decodeGreyscale(bytes: Buffer): Promise<GreyImage> {
  try {
    return await decode(bytes);
  } catch (error) {
    throw new PermanentStageError(`image cannot be decoded: ${(error as Error).message}`);
  }
}

/** COMPLETED frames that still lack what a stage produces (a provider switched on later). */
export interface BackfillSource {
  remaining(): Promise<number>;
  /** Ids of such frames, most useful first. */
  candidates(limit: number): Promise<number[]>;
}

export interface PipelineStage {
  readonly name: string;
  readonly backfill?: BackfillSource;
  /** False when this frame already has what the stage produces (a retry or a backfill skips it). */
  isNeeded?(row: FrameRow): boolean | Promise<boolean>;
  run(frame: ClaimedFrame): Promise<void>;
  close?(): Promise<void>;
}

/** Told how long each stage run took and whether it succeeded (metrics). */
export type StageObserver = (stage: string, seconds: number, ok: boolean) => void;

/** Errors that mean the disk is full: the frame is fine, the machine is not (see ProcessingWorker). */
export { isDiskFull } from '../files/disk-full.js';

/** Runs the stages in order; the queue knows nothing of what they do. */
export class Pipeline {
  onStage: StageObserver | undefined;

  constructor(readonly stages: PipelineStage[]) {}

  async process(frame: ClaimedFrame): Promise<void> {
    for (const stage of this.stages) {
      if (stage.isNeeded && !(await stage.isNeeded(frame.row))) continue;
      const started = performance.now();
      try {
        await stage.run(frame);
        this.onStage?.(stage.name, (performance.now() - started) / 1000, true);
      } catch (error) {
        // Not the stage's failure: another worker owns the frame now, or the database is away.
        if (error instanceof LeaseLostError || error instanceof StoreUnavailableError) throw error;
        this.onStage?.(stage.name, (performance.now() - started) / 1000, false);
        const message = error instanceof Error ? error.message : String(error);
        const wrapped = error instanceof PermanentStageError ? new PermanentStageError(message) : new Error(message);
        wrapped.message = `${stage.name}: ${message}`;
        const code = (error as { code?: unknown } | null)?.code;
        if (code !== undefined) Object.assign(wrapped, { code });
        throw wrapped;
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.stages.map((s) => s.close?.()));
  }
}
