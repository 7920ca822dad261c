import type { ImageStore } from '../images/image-store.js';
import type { StorageRepository } from '../store/ports.js';

/** Rows from the Python version have no recorded size: stat their files once, so the sums are right. */
export async function fillMissingSizes(repo: StorageRepository, images: ImageStore, batch = 500): Promise<void> {
  for (;;) {
    const rows = await repo.withoutBytes(batch);
    if (rows.length === 0) return;
    const sizes = await Promise.all(
      rows.map(async (row) => {
        let bytes = 0;
        try {
          bytes = (await images.files.stat(row.image_path))?.plainBytes ?? 0;
        } catch {
          // a path outside the data dir counts nothing
        }
        return { id: row.id, bytes };
      }),
    );
    await repo.setBytes(sizes);
  }
}
