import zlib from 'node:zlib';

/**
 * What an upload's bytes were when they arrived: their count and CRC-32, so that a file a power cut left torn is
 * told from a whole one. A renamed upload's name carries them (`<uuid>-<bytes>-<crc>.<ext>`); an upload written in
 * place keeps them in its row (`<bytes>-<crc>`, SQLite's upload_check).
 */
export interface UploadCheck {
  bytes: number;
  crc: number;
}

const CHECKED_NAME = /-(\d+)-([0-9a-f]{8})\.[a-z0-9]+$/;
const CHECK_TEXT = /^(\d+)-([0-9a-f]{8})$/;
const hex = (crc: number) => crc.toString(16).padStart(8, '0');

/** The CRC-32 of `chunk` continued from `previous` (0 to start). */
export const crc32 = (chunk: Uint8Array, previous = 0): number => zlib.crc32(chunk, previous);

/** An incoming file's name with its check. */
export const checkedName = (stem: string, check: UploadCheck, extension: string): string => `${stem}-${check.bytes}-${hex(check.crc)}.${extension}`;

/** The check as a row keeps it. */
export const checkText = (check: UploadCheck): string => `${check.bytes}-${hex(check.crc)}`;

/** The check a row keeps; undefined for anything else. */
export function parseCheckText(text: string | undefined): UploadCheck | undefined {
  const match = text === undefined ? null : CHECK_TEXT.exec(text);
  return match ? { bytes: Number(match[1]), crc: Number.parseInt(match[2]!, 16) } : undefined;
}

/** The check an incoming path carries; undefined for a name without one (uploads stored before it existed). */
export function uploadCheckOf(relative: string): UploadCheck | undefined {
  const match = CHECKED_NAME.exec(relative);
  if (!match) return undefined;
  return { bytes: Number(match[1]), crc: Number.parseInt(match[2]!, 16) };
}

/** Whether `bytes` are the upload the check describes. */
export const matchesCheck = (bytes: Uint8Array, check: UploadCheck): boolean => bytes.length === check.bytes && crc32(bytes) === check.crc;
