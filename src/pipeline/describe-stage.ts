import { boundedJpeg } from '../images/codec.js';
import type { VlmClient } from '../ai/vlm-client.js';
import type { EntriesRepository, EntryRow } from '../store/entries-repository.js';
import type { BackfillSource, FrameTask, PipelineStage } from './stage.js';

/** Asks a vision-language model what the screen shows; the answer is stored, indexed and searchable. */
export class DescribeStage implements PipelineStage {
  readonly name = 'describe';
  readonly backfill: BackfillSource;

  constructor(
    private readonly vlm: VlmClient,
    private readonly maxWidth: number,
    entries: EntriesRepository,
  ) {
    this.backfill = {
      remaining: () => entries.completedWithoutDescription(),
      candidates: (limit) => entries.completedWithoutDescriptionIds(limit),
    };
  }

  isNeeded(entry: EntryRow): boolean {
    return entry.description === null;
  }

  async run(task: FrameTask): Promise<void> {
    // A bounded JPEG keeps the request small; models downscale large images anyway.
    const image = await boundedJpeg(await task.imageBytes(), this.maxWidth);
    task.save({ description: await this.vlm.describe(image, 'image/jpeg') });
  }
}
