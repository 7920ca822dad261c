/**
 * Uploaded images are recognised from their bytes and their container structure is checked without decoding
 * pixels (image-inspector.ts): microseconds per megabyte, so it runs on the request path, as the bytes
 * arrive. Full decoding happens in the worker.
 */
export type ImageFormat = 'png' | 'jpeg' | 'webp';

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

export class ImageFormatError extends Error {
  constructor(
    message: string,
    /** 415 when the bytes are not a supported image at all, 400 when a supported image is damaged. */
    readonly statusCode: 400 | 415,
  ) {
    super(message);
  }
}

export const FILE_EXTENSIONS: Record<ImageFormat, string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };
