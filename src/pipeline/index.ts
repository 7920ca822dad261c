import { createEmbeddingProvider } from '../ai/index.js';
import type { EmbeddingProvider } from '../ai/embedding-provider.js';
import { VlmClient } from '../ai/vlm-client.js';
import { redactionPolicy, type ServerConfig } from '../config.js';
import { type FrameFiles, LocalFrameFiles } from '../images/frame-files.js';
import type { Store } from '../store/ports.js';
import { DescribeStage } from './describe-stage.js';
import { EmbedStage } from './embed-stage.js';
import { CompactedLayerBlanker } from './compacted-redaction.js';
import { createOcrEngine } from './ocr/index.js';
import { OcrStage } from './ocr-stage.js';
import { RedactHistoryStage } from './redact-history-stage.js';
import { Pipeline, type PipelineStage } from './stage.js';
import { StoreImageStage } from './store-image-stage.js';

/**
 * The configured stages, in order: store the image, OCR, then the optional AI stages (a description from a
 * vision model, then an embedding of everything known about the frame). Full-text indexing follows every
 * write by trigger, so it needs no stage of its own.
 */
export async function createPipeline(
  config: ServerConfig,
  images: FrameFiles,
  store: Pick<Store, 'cjkIndex' | 'frames' | 'embeddings' | 'compaction' | 'maintenance' | 'withExclusiveLock'>,
  /** An embedding provider loaded already (null: none); by default the configured one is loaded here. */
  embedder?: EmbeddingProvider | null,
): Promise<Pipeline> {
  const stages: PipelineStage[] = [];
  const policy = redactionPolicy(config.redact);
  const ocr = await createOcrEngine(config.ocrEngine, config.workers, config.ocrLanguages);
  // OCR (and its redaction) first: the image is stored once, with the redacted words already covered.
  if (ocr) stages.push(new OcrStage(ocr, store.cjkIndex, policy));
  stages.push(new StoreImageStage(images, policy !== null));
  const embeddings = embedder === undefined ? await createEmbeddingProvider(config.ai.embedding) : (embedder ?? undefined);
  // Old frames are redacted only where the data dir is mounted: their stored image is replaced and compacted
  // layers rewritten, which the worker file API never allows (a worker without the data dir skips the stage).
  if (policy && images instanceof LocalFrameFiles) {
    const exclusive = (task: () => Promise<void>) => store.withExclusiveLock('compaction', task);
    const layers = new CompactedLayerBlanker(images.images, store.compaction, store.frames, exclusive);
    const deps = {
      images,
      frames: store.frames,
      cjk: store.cjkIndex,
      compaction: store.compaction,
      embeddings: store.embeddings,
      maintenance: store.maintenance,
      embedder: embeddings,
      ocr,
      layers,
    };
    stages.push(new RedactHistoryStage(policy, deps));
  }
  if (config.ai.vlm.url) stages.push(new DescribeStage(new VlmClient(config.ai.vlm), config.ai.vlm.maxImageWidth, store.frames));
  if (embeddings) stages.push(new EmbedStage(embeddings, store.embeddings));
  return new Pipeline(stages);
}
