import { boundedJpeg } from '../images/codec.js';
import type { VlmClient } from '../ai/vlm-client.js';
import type { FramesRepository, FrameRow } from '../store/ports.js';
import type { BackfillSource, ClaimedFrame, PipelineStage } from './stage.js';

/** Asks a vision-language model what the screen shows; the answer is stored, indexed and searchable. */
export class DescribeStage implements PipelineStage {
  readonly name = 'describe';
  readonly backfill: BackfillSource;

  constructor(
    private readonly vlm: VlmClient,
    private readonly maxWidth: number,
    frames: FramesRepository,
  ) {
    this.backfill = {
      remaining: () => frames.completedWithoutDescription(),
      candidates: (limit) => frames.completedWithoutDescriptionIds(limit),
    };
  }

  isNeeded(row: FrameRow): boolean {
    return row.description === null;
  }

  async run(frame: ClaimedFrame): Promise<void> {
    // A bounded JPEG keeps the request small; models downscale large images anyway.
    const image = await boundedJpeg(await frame.imageBytes(), this.maxWidth);
    await frame.save({ description: await this.vlm.describe(image, 'image/jpeg') });
  }
}
