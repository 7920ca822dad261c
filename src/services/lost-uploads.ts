import type { ImageStore } from '../images/image-store.js';
import type { FramesRepository } from '../store/ports.js';

const INCOMING = 'screenshots/incoming/';

/**
 * Start-up, before the processor: deletes the frames whose upload file is gone. An upload is fsynced beside its
 * row's sync (ingest-service.ts, `uploadsInPlace`), so a power cut before both finished can keep the row and lose the
 * file: its name, when it was renamed into the folder (uploads stored before they were written in place), or its
 * bytes (a torn file, found when the client sends the frame again). Its client got no 202 and still holds the frame:
 * without its row, the retry (same capture_id) is accepted instead of answered "duplicate" of a frame that can never
 * be processed. Returns how many were deleted.
 */
export async function deleteLostUploads(frames: FramesRepository, images: ImageStore): Promise<number> {
  let deleted = 0;
  for (const { id, imagePath } of await frames.unprocessedUploads(INCOMING)) {
    if (await images.exists(imagePath)) continue;
    if (await frames.deleteLostUpload(id, imagePath)) deleted++;
  }
  return deleted;
}
