import type { ServerConfig } from '../config.js';
import type { ImageStore } from '../images/image-store.js';
import type { Logger } from '../log.js';
import { createOcrEngine } from './ocr/index.js';
import { OcrStage } from './ocr-stage.js';
import { Pipeline, type PipelineStage } from './stage.js';
import { StoreImageStage } from './store-image-stage.js';

/** The configured stages, in order: store the image, OCR, and (when configured) the AI stages after them. */
export async function createPipeline(config: ServerConfig, images: ImageStore, _log: Logger): Promise<Pipeline> {
  const stages: PipelineStage[] = [new StoreImageStage(images)];
  const ocr = await createOcrEngine(config.ocrEngine, config.workers);
  if (ocr) stages.push(new OcrStage(ocr));
  return new Pipeline(stages);
}
