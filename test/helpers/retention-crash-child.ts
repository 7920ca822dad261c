// A process that dies for real in the middle of a retention batch: it takes the data dir's lock as
// `openrecall prune` does, deletes the rows of every finished frame through the same FrameDeletion step
// (journal first, then rows in one transaction), and is SIGKILLed before it removes any file.
//   node --import tsx test/helpers/retention-crash-child.ts <dataDir>
import { ImageStore } from '../../src/images/image-store.js';
import { FrameDeletion } from '../../src/retention/deletion.js';
import { RetentionJournal } from '../../src/retention/journal.js';
import { acquireDataDirLock } from '../../src/store/data-dir-lock.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { SqliteStorageRepository } from '../../src/store/sqlite/storage-repository.js';

const dataDir = process.argv[2]!;
acquireDataDirLock(dataDir);
const images = new ImageStore(dataDir);
const repo = new SqliteStorageRepository(openDatabase(images.paths.dbFile, { dataDir }));
const deletion = new FrameDeletion(repo, images, new RetentionJournal(dataDir));
const rows = await deletion.deleteRows(await repo.deletable(Infinity, { timestamp: -Infinity, id: 0 }, 500));
process.stdout.write(`deleted ${rows.frames.length} row(s)\n`);
process.kill(process.pid, 'SIGKILL');
