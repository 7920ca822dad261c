/**
 * A layer file: the new tiles of one frame, in chunks of CHUNK_TILES tiles, each chunk its own lossless WebP, so
 * a frame that needs a few tiles of a big layer decodes only their chunks. Layout: "ORTL", version (1 byte),
 * chunk count (u16 LE), each chunk's length (u32 LE), then the chunks one after another.
 */
const MAGIC = 'ORTL';
const VERSION = 1;

export class DamagedLayerError extends Error {}

export function joinChunks(chunks: Buffer[]): Buffer {
  const header = Buffer.alloc(7 + 4 * chunks.length);
  header.write(MAGIC, 0, 'ascii');
  header.writeUInt8(VERSION, 4);
  header.writeUInt16LE(chunks.length, 5);
  for (const [i, chunk] of chunks.entries()) header.writeUInt32LE(chunk.length, 7 + 4 * i);
  return Buffer.concat([header, ...chunks]);
}

/** The chunks of a layer file (views into `file`), or DamagedLayerError when the structure does not hold. */
export function splitChunks(file: Buffer): Buffer[] {
  if (file.length < 7 || file.toString('ascii', 0, 4) !== MAGIC || file.readUInt8(4) !== VERSION) throw new DamagedLayerError('not a layer file');
  const count = file.readUInt16LE(5);
  let offset = 7 + 4 * count;
  if (file.length < offset) throw new DamagedLayerError('layer header is cut short');
  const chunks: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const length = file.readUInt32LE(7 + 4 * i);
    if (offset + length > file.length) throw new DamagedLayerError(`chunk ${i} runs past the end of the file`);
    chunks.push(file.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== file.length) throw new DamagedLayerError('layer file has trailing bytes');
  return chunks;
}
