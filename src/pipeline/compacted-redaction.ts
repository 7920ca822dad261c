import crypto from 'node:crypto';
import type { PixelBox } from '../images/codec.js';
import { blankSlots, tilesUnder } from '../images/compaction/blank-tiles.js';
import { compactedReader } from '../images/compaction/frame-reader.js';
import { isCompactedPath } from '../images/compaction/manifest.js';
import type { ImageStore } from '../images/image-store.js';
import type { CompactionRepository, FramesRepository } from '../store/ports.js';

/**
 * A compacted frame's pixels are tiles in layer files that later frames share. Redacting it, the history stage
 * stores the frame as a plain covered file of its own and lets go of the layers; here, before that, the tiles
 * under its covered boxes are painted black in the layers, in every slot no other frame's manifest uses. Other
 * frames are never changed: a slot another frame uses shows that frame the same pixels, so it shows the same
 * secret and is redacted in its own turn (then the slot is blanked, or the layer swept once unused).
 */
export class CompactedLayerBlanker {
  constructor(
    private readonly images: ImageStore,
    private readonly compaction: CompactionRepository,
    private readonly frames: FramesRepository,
    /** Runs the task while no compaction runs anywhere (it could reuse a slot meanwhile); false: try later. */
    private readonly exclusive: (task: () => Promise<void>) => Promise<boolean>,
  ) {}

  /** Resolves to the number of tiles painted over; rejects when compaction holds the layers (retried later). */
  async blankCovered(frameId: number, manifestPath: string, boxes: PixelBox[]): Promise<number> {
    let blanked = 0;
    const held = await this.exclusive(async () => {
      blanked = await this.blank(frameId, manifestPath, boxes);
    });
    if (!held) throw new Error('compaction is running in another process: the layers are redacted on the next try');
    return blanked;
  }

  private async blank(frameId: number, manifestPath: string, boxes: PixelBox[]): Promise<number> {
    const reader = compactedReader(this.images);
    const manifest = await reader.manifest(manifestPath);
    const slotsByLayer = new Map<number, Set<number>>();
    for (const position of tilesUnder(manifest.width, manifest.height, boxes)) {
      const [layer, slot] = manifest.tiles[position]!;
      slotsByLayer.set(layer, (slotsByLayer.get(layer) ?? new Set()).add(slot));
    }
    let blanked = 0;
    for (const [index, slots] of slotsByLayer) {
      const layerId = manifest.layerIds[index]!;
      const layerPath = manifest.layers[index]!;
      for (const other of await this.compaction.framesUsing(layerId)) {
        if (other === frameId) continue;
        const row = await this.frames.get(other);
        if (!isCompactedPath(row?.image_path)) continue;
        const theirs = await reader.manifest(row!.image_path!);
        const layer = theirs.layers.indexOf(layerPath);
        for (const [l, slot] of theirs.tiles) if (l === layer) slots.delete(slot);
      }
      if (slots.size === 0) continue;
      const bytes = await blankSlots(await this.images.read(layerPath), [...slots]);
      await this.images.writeAtomic(layerPath, bytes, { durable: true });
      await this.compaction.layerRewritten(layerId, bytes.length, crypto.createHash('sha256').update(bytes).digest('hex'));
      blanked += slots.size;
    }
    return blanked;
  }
}
