import zlib from 'node:zlib';

/**
 * What an upload's bytes were when they arrived: their count and CRC-32. Its incoming file's name carries them
 * (`<uuid>-<bytes>-<crc>.<ext>`), so a file that a power cut left torn is told from a whole one without a column.
 */
export interface UploadCheck {
  bytes: number;
  crc: number;
}

const CHECKED_NAME = /-(\d+)-([0-9a-f]{8})\.[a-z0-9]+$/;

/** The CRC-32 of `chunk` continued from `previous` (0 to start). */
export const crc32 = (chunk: Uint8Array, previous = 0): number => zlib.crc32(chunk, previous);

/** An incoming file's name with its check. */
export const checkedName = (stem: string, check: UploadCheck, extension: string): string =>
  `${stem}-${check.bytes}-${check.crc.toString(16).padStart(8, '0')}.${extension}`;

/** The check an incoming path carries; undefined for a name without one (uploads stored before it existed). */
export function uploadCheckOf(relative: string): UploadCheck | undefined {
  const match = CHECKED_NAME.exec(relative);
  if (!match) return undefined;
  return { bytes: Number(match[1]), crc: Number.parseInt(match[2]!, 16) };
}

/** Whether `bytes` are the upload the check describes. */
export const matchesCheck = (bytes: Uint8Array, check: UploadCheck): boolean => bytes.length === check.bytes && crc32(bytes) === check.crc;
