import type { ImageStore } from '../images/image-store.js';
import type { StorageRepository } from '../store/ports.js';
import { fileSize } from './storage-figures.js';

/** Rows from the Python version have no recorded size: stat their files once, so the sums are right. */
export async function fillMissingSizes(repo: StorageRepository, images: ImageStore, batch = 500): Promise<void> {
  for (;;) {
    const rows = await repo.withoutBytes(batch);
    if (rows.length === 0) return;
    const sizes = await Promise.all(
      rows.map(async (row) => {
        let absolute: string | undefined;
        try {
          absolute = images.resolve(row.image_path);
        } catch {
          absolute = undefined;
        }
        return { id: row.id, bytes: absolute ? await fileSize(absolute) : 0 };
      }),
    );
    await repo.setBytes(sizes);
  }
}
