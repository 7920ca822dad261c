import type { CompactionStatus } from '../api/storage.js';
import crypto from 'node:crypto';
import type { ImageStore } from '../images/image-store.js';
import { compactedReader, type CompactedFrameReader } from '../images/compaction/frame-reader.js';
import { encodeManifest, type Manifest } from '../images/compaction/manifest.js';
import { decodeRgb, encodeLayer } from '../images/codec.js';
import { joinChunks } from '../images/compaction/layer-file.js';
import { CHUNK_TILES, packChunks, splitTiles, tileHash, type TileRef } from '../images/compaction/tiles.js';
import type { Logger } from '../log.js';
import { isDiskFull } from '../pipeline/stage.js';
import type { CompactionCandidate, CompactionRepository, CompactionTotals } from '../store/ports.js';

export interface CompactionOptions {
  /** Frames captured more than this many minutes ago are compacted (0: as soon as they are processed). */
  afterMinutes: number;
  log: Logger;
  now?: () => number;
}

export type { CompactionStatus } from '../api/storage.js';

/** A frame references at most this many layers: rebuilding it decodes each of them once. */
const MAX_LAYERS = 12;
/** Chunks of earlier layers a frame may use, in frames' worth of tiles (its own new tiles come on top). */
const DECODE_BUDGET = 1.25;
/** Tiles of the last this-many frames of a monitor are looked up for reuse. */
const WINDOW_FRAMES = 24;
const JOURNAL = 'compaction.journal';
const TOTALS_TTL_MS = 5000;
const START = { timestamp: -Infinity, id: 0 };

interface TileLocation {
  layerId: number;
  layerPath: string;
  slot: number;
  seen: number;
}

/** Recently seen tiles of one monitor, by content. */
class TileWindow {
  readonly index = new Map<string, TileLocation>();
  frames = 0;

  remember(hash: string, location: Omit<TileLocation, 'seen'>): void {
    this.index.set(hash, { ...location, seen: this.frames });
  }

  nextFrame(): void {
    this.frames++;
    if (this.index.size < 20_000) return;
    for (const [hash, location] of this.index) if (location.seen < this.frames - WINDOW_FRAMES) this.index.delete(hash);
  }
}

/** What `compaction.journal` records of the frame being compacted. */
export interface JournalEntry {
  entryId: number;
  original: string;
  layer: string | null;
  manifest: string;
}

/** One frame's compaction worked out in memory by `plan()`: nothing is written yet. */
export interface FramePlan {
  frame: CompactionCandidate;
  originalBytes: number;
  /** The tiles' hashes in the frame's order, and where each one is stored. */
  hashes: string[];
  refs: TileRef[];
  layers: Array<{ id: number; path: string }>;
  manifest: Manifest;
  manifestBytes: Buffer;
  /** This frame's new tiles (none when every tile was seen before). */
  layerBytes: Buffer | undefined;
  journal: JournalEntry;
}

/**
 * Re-stores processed frames as tiles shared between consecutive frames of a monitor: each frame becomes a
 * small manifest plus a layer holding only the tiles no recent frame had. Crash-safe, in steps run in this
 * order for each frame: `plan()` works it out in memory; `writeFiles()` journals the frame's new files, then
 * writes them; `commitSwitch()` switches the row to the manifest in one transaction; `removeOriginal()`
 * removes the old file, then the journal. At start, `recover()` finishes or undoes what a crash interrupted.
 */
export class CompactionService {
  private readonly now: () => number;
  private readonly windows = new Map<string, TileWindow>();
  readonly reader: CompactedFrameReader;
  /** `openrecall compact`: compact every processed frame, whatever its age, until none is left. */
  private urgent = false;

  constructor(
    private readonly repo: CompactionRepository,
    private readonly images: ImageStore,
    private readonly options: CompactionOptions,
  ) {
    this.now = options.now ?? (() => Date.now() / 1000);
    this.reader = compactedReader(images);
  }

  private cutoff(): number {
    return this.urgent ? Infinity : this.now() - this.options.afterMinutes * 60;
  }

  hasUrgentWork(): boolean {
    return this.urgent;
  }

  /** Compacts every processed frame from now on, whatever its age; resolves to how many there are. */
  compactAllNow(): Promise<number> {
    this.urgent = true;
    return this.repo.countCandidates(Infinity);
  }

  private totals: { value: CompactionTotals; at: number; uncompacted: number } | undefined;

  async status(): Promise<CompactionStatus> {
    const uncompacted = await this.repo.countCandidates(Infinity);
    // The sums read every compacted frame's row: at a year of frames, do it again only when frames were
    // compacted since, or every few seconds (deletions).
    if (!this.totals || this.totals.uncompacted !== uncompacted || Date.now() - this.totals.at > TOTALS_TTL_MS) {
      this.totals = { value: await this.repo.totals(), at: Date.now(), uncompacted };
    }
    const totals = this.totals.value;
    return {
      after_minutes: this.options.afterMinutes,
      ...totals,
      pending_frames: await this.repo.countCandidates(this.now() - this.options.afterMinutes * 60),
      uncompacted_frames: uncompacted,
      ratio: totals.original_bytes > 0 ? Math.round((totals.stored_bytes / totals.original_bytes) * 10_000) / 10_000 : null,
    };
  }

  /** Compacts up to `limit` frames due for it, oldest first. Returns how many were compacted. */
  async runBatch(limit: number): Promise<number> {
    let attempted = 0;
    while (attempted < limit) {
      const page = await this.repo.candidates(this.cutoff(), this.cursor, 64);
      if (page.length === 0) {
        // End of a pass: the next one starts from the oldest frame again.
        this.cursor = START;
        if (attempted === 0) this.urgent = false;
        break;
      }
      for (const frame of page) {
        this.cursor = { timestamp: frame.timestamp, id: frame.id };
        // Frames that failed (a missing or damaged file) are passed over, not retried at every pass.
        if (this.skipped.has(frame.id)) continue;
        attempted++;
        try {
          if (await this.compactOne(frame)) this.compacted++;
        } catch (error) {
          if (isDiskFull(error)) throw error;
          this.options.log(`compaction of frame ${frame.id} failed (the frame keeps its file): ${(error as Error).message}`);
          this.skipped.add(frame.id);
        }
        if (attempted >= limit) break;
      }
    }
    return attempted;
  }

  private readonly skipped = new Set<number>();
  private cursor = START;
  /** Frames compacted by this instance. */
  private compacted = 0;

  /** Compacts everything due, calling `progress` with the frames done so far; for `openrecall compact` without a server. */
  async runAll(progress?: (done: number) => void): Promise<number> {
    this.urgent = true;
    this.cursor = START;
    const before = this.compacted;
    // One pass from the oldest frame to the newest, then one more for frames that arrived meanwhile.
    for (let passes = 0; passes < 2; ) {
      const attempted = await this.runBatch(16);
      progress?.(this.compacted - before + this.skipped.size);
      if (attempted === 0 || this.cursor === START) passes++;
    }
    await this.sweep();
    return this.compacted - before;
  }

  private window(monitor: number | null): TileWindow {
    const key = String(monitor);
    let window = this.windows.get(key);
    if (!window) {
      window = new TileWindow();
      this.windows.set(key, window);
    }
    return window;
  }

  /** A monitor's window starts from its newest compacted frame, so a restart does not store a full frame again. */
  private async seed(monitor: number | null, window: TileWindow): Promise<void> {
    const last = await this.repo.lastCompacted(monitor);
    if (!last) return;
    try {
      const manifest = await this.reader.manifest(last.path);
      const tiles = splitTiles(await this.reader.pixels(last.path));
      tiles.forEach((tile, position) => {
        const [layer, slot] = manifest.tiles[position]!;
        window.remember(tileHash(tile), { layerId: manifest.layerIds[layer]!, layerPath: manifest.layers[layer]!, slot });
      });
    } catch (error) {
      this.options.log(`compaction: cannot reuse the tiles of frame ${last.id} (${(error as Error).message}); starting afresh`);
    }
  }

  /** One frame, every step in order. False when the frame changed meanwhile (nothing switched). */
  private async compactOne(frame: CompactionCandidate): Promise<boolean> {
    if (this.skipped.has(frame.id)) return false;
    const plan = await this.plan(frame);
    await this.writeFiles(plan);
    if (!(await this.commitSwitch(plan))) return false;
    await this.removeOriginal(plan);
    return true;
  }

  /** Step 1: reads and splits the frame, and chooses which tiles earlier layers give and which are stored anew. */
  async plan(frame: CompactionCandidate): Promise<FramePlan> {
    let window = this.windows.get(String(frame.monitor));
    if (!window) {
      window = this.window(frame.monitor);
      await this.seed(frame.monitor, window);
    }
    const originalBytes = await this.images.read(frame.image_path);
    const image = await decodeRgb(originalBytes);
    const tiles = splitTiles(image);
    const hashes = tiles.map(tileHash);

    // Which earlier layers hold which tiles; only the MAX_LAYERS - 1 most useful are kept (one is our own).
    const found = hashes.map((h) => window.index.get(h));
    const perLayer = new Map<number, number>();
    for (const location of found) if (location) perLayer.set(location.layerId, (perLayer.get(location.layerId) ?? 0) + 1);
    const keptLayers = new Set(
      [...perLayer.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, MAX_LAYERS - 1)
        .map(([id]) => id),
    );
    // Decoding budget: a rebuild decodes whole chunks. Chunks are taken by how many of this frame's tiles they
    // hold, until DECODE_BUDGET frames' worth of tiles; tiles of the chunks left out are stored again.
    const perChunk = new Map<string, number>();
    const chunkOf = (l: TileLocation) => `${l.layerId}:${Math.floor(l.slot / CHUNK_TILES)}`;
    for (const location of found) if (location && keptLayers.has(location.layerId)) perChunk.set(chunkOf(location), (perChunk.get(chunkOf(location)) ?? 0) + 1);
    const keptChunks = new Set<string>();
    let decodedTiles = 0;
    for (const [chunk] of [...perChunk.entries()].sort((a, b) => b[1] - a[1])) {
      if (decodedTiles + CHUNK_TILES > DECODE_BUDGET * tiles.length) break;
      keptChunks.add(chunk);
      decodedTiles += CHUNK_TILES;
    }
    const kept = (location: TileLocation | undefined): location is TileLocation => location !== undefined && keptChunks.has(chunkOf(location));

    const layers: Array<{ id: number; path: string }> = [];
    const layerIndex = new Map<number, number>();
    const ownPath = this.pathFor('layers', frame, 'tiles');
    const newTiles: Buffer[] = [];
    const newSlots = new Map<string, number>();
    const refs: TileRef[] = [];
    for (let i = 0; i < tiles.length; i++) {
      const location = found[i];
      if (kept(location)) {
        let index = layerIndex.get(location.layerId);
        if (index === undefined) {
          index = layers.push({ id: location.layerId, path: location.layerPath }) - 1;
          layerIndex.set(location.layerId, index);
        }
        refs.push([index, location.slot]);
        continue;
      }
      let slot = newSlots.get(hashes[i]!);
      if (slot === undefined) {
        slot = newTiles.push(tiles[i]!) - 1;
        newSlots.set(hashes[i]!, slot);
      }
      refs.push([-1, slot]); // our own layer, index fixed below
    }
    let layerBytes: Buffer | undefined;
    if (newTiles.length > 0) {
      const chunks: Buffer[] = [];
      for (const chunk of packChunks(newTiles)) chunks.push(await encodeLayer(chunk));
      layerBytes = joinChunks(chunks);
      const own = layers.push({ id: frame.id, path: ownPath }) - 1;
      for (const ref of refs) if (ref[0] === -1) ref[0] = own;
    }
    const manifest: Manifest = {
      version: 1,
      width: image.width,
      height: image.height,
      layerIds: layers.map((l) => l.id),
      layers: layers.map((l) => l.path),
      tiles: refs,
    };
    const manifestBytes = encodeManifest(manifest);
    const manifestPath = this.pathFor('frames', frame, 'json.gz');

    const journal: JournalEntry = { entryId: frame.id, original: frame.image_path, layer: layerBytes ? ownPath : null, manifest: manifestPath };
    return {
      frame,
      originalBytes: frame.bytes ?? originalBytes.length,
      hashes,
      refs,
      layers,
      manifest,
      manifestBytes,
      layerBytes,
      journal,
    };
  }

  /** Step 2: journals the frame's new files, then writes them. On failure they go again, and the error is thrown. */
  async writeFiles(plan: FramePlan): Promise<void> {
    this.writeJournal(plan.journal);
    try {
      // Durable: the original is deleted once the row points here.
      if (plan.layerBytes) await this.images.writeAtomic(plan.journal.layer!, plan.layerBytes, { durable: true });
      await this.images.writeAtomic(plan.journal.manifest, plan.manifestBytes, { durable: true });
    } catch (error) {
      await this.undo(plan.journal);
      throw error;
    }
  }

  /**
   * Step 3: switches the frame's row to its manifest in one transaction. False, with the new files undone, when
   * the frame was deleted or a shared layer lost its last user meanwhile. On failure (a full disk, a busy
   * database) the frame keeps its file, the new files go, and the error is thrown.
   */
  async commitSwitch(plan: FramePlan): Promise<boolean> {
    const { frame, layerBytes, journal } = plan;
    let committed: boolean;
    try {
      committed = await this.repo.commit(
        {
          entryId: frame.id,
          monitor: frame.monitor,
          originalPath: frame.image_path,
          originalBytes: plan.originalBytes,
          manifestPath: journal.manifest,
          manifestBytes: plan.manifestBytes.length,
          layer: layerBytes ? { id: frame.id, path: journal.layer!, bytes: layerBytes.length, sha256: sha256(layerBytes) } : undefined,
          layerIds: plan.manifest.layerIds,
        },
        this.now(),
      );
    } catch (error) {
      await this.undo(journal);
      throw error;
    }
    if (!committed) {
      // Forget this monitor's window: it may point at the layer that went.
      await this.undo(journal);
      this.windows.delete(String(frame.monitor));
    }
    return committed;
  }

  /** Step 4: the frame is switched; its old file goes, then the journal. Its tiles are offered to the next frames. */
  async removeOriginal(plan: FramePlan): Promise<void> {
    await this.images.remove(plan.frame.image_path);
    this.clearJournal();
    const window = this.window(plan.frame.monitor);
    window.nextFrame();
    plan.hashes.forEach((hash, i) => {
      const [layer, slot] = plan.refs[i]!;
      window.remember(hash, { layerId: plan.layers[layer]!.id, layerPath: plan.layers[layer]!.path, slot });
    });
  }

  private async undo(journal: JournalEntry): Promise<void> {
    if (journal.layer) await this.images.remove(journal.layer);
    await this.images.remove(journal.manifest);
    this.clearJournal();
  }

  private pathFor(kind: 'layers' | 'frames', frame: CompactionCandidate, extension: string): string {
    const day = new Date(frame.timestamp * 1000).toISOString().slice(0, 10).replaceAll('-', '/');
    return `compact/${kind}/${day}/${frame.id}.${extension}`;
  }

  /**
   * Removes layers no frame uses any more (their frames were deleted). The file goes before the row, so a crash
   * leaves at most a row without a file, which the next sweep removes.
   */
  async sweep(): Promise<number> {
    let removed = 0;
    for (;;) {
      const layers = await this.repo.unreferencedLayers(200);
      if (layers.length === 0) break;
      for (const layer of layers) {
        await this.images.remove(layer.path);
        if (await this.repo.deleteUnreferencedLayer(layer.id)) removed++;
      }
    }
    // Windows may point at removed layers: they start again from the newest compacted frame.
    if (removed > 0) this.windows.clear();
    return removed;
  }

  private writeJournal(entry: JournalEntry): void {
    // One compaction at a time: the temporary is always `compaction.journal.tmp`, reused after a kill.
    this.images.files.writeFileAtomicSync(JOURNAL, JSON.stringify(entry), { durable: true, singleWriter: true });
  }

  private clearJournal(): void {
    this.images.files.removeSync(JOURNAL);
  }

  /** Finishes (committed: the old file goes) or undoes (the new files go) a compaction a crash interrupted. */
  async recover(): Promise<void> {
    let entry: JournalEntry;
    try {
      entry = JSON.parse(this.images.files.readFileSync(JOURNAL).toString('utf8')) as JournalEntry;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.options.log(`compaction: unreadable journal ignored (${(error as Error).message})`);
        this.clearJournal();
      }
      return;
    }
    // A kill in the middle of writeFiles() leaves the temporary file of the write it interrupted.
    for (const file of [entry.layer, entry.manifest]) if (file) this.images.files.removeLeftoverTemporaries(file);
    if (await this.repo.committed(entry.entryId, entry.manifest)) {
      await this.images.remove(entry.original);
      this.options.log(`compaction: finished frame ${entry.entryId}, interrupted after its switch`);
    } else {
      if (entry.layer) await this.images.remove(entry.layer);
      await this.images.remove(entry.manifest);
      if (!(await this.repo.entryExists(entry.entryId))) await this.images.remove(entry.original);
      this.options.log(`compaction: undid frame ${entry.entryId}, interrupted before its switch (the frame keeps its file)`);
    }
    this.clearJournal();
  }
}

function sha256(bytes: Buffer): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}
