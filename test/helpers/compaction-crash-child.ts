// A process that dies for real in the middle of compacting a frame: it takes the data dir's lock as
// `openrecall compact` does, compacts the oldest frames through the production CompactionService, then runs
// the steps of the next frame one by one (plan, writeFiles, commitSwitch: the order compactOne runs them) and
// is SIGKILLed after the step named on its command line, before the next one.
//   node --import tsx test/helpers/compaction-crash-child.ts <dataDir> <after-files|after-commit> <framesBefore>
import { ImageStore } from '../../src/images/image-store.js';
import { CompactionService } from '../../src/services/compaction-service.js';
import { SqliteCompactionRepository } from '../../src/store/sqlite/compaction-repository.js';
import { acquireDataDirLock } from '../../src/store/data-dir-lock.js';
import { openDatabase } from '../../src/store/sqlite/database.js';

const [dataDir, point, before] = process.argv.slice(2) as [string, string, string];
if (point !== 'after-files' && point !== 'after-commit') throw new Error(`unknown crash point ${point}`);
acquireDataDirLock(dataDir);
const images = new ImageStore(dataDir);
const repo = new SqliteCompactionRepository(openDatabase(images.paths.dbFile, { dataDir }));
const service = new CompactionService(repo, images, { afterMinutes: 0, log: (line) => process.stdout.write(`${line}\n`) });
await service.recover();
await service.compactAllNow();
const done = await service.runBatch(Number(before));
const [frame] = await repo.candidates(Infinity, { timestamp: -Infinity, id: 0 }, 1);
if (!frame) throw new Error('no frame left to compact');
process.stdout.write(`compacted ${done} frame(s); crashing ${point} of frame ${frame.id}\n`);
const plan = await service.plan(frame);
await service.writeFiles(plan);
if (point === 'after-commit') {
  if (!(await service.commitSwitch(plan))) throw new Error(`frame ${frame.id} was not switched`);
}
process.stdout.write(`journal ${JSON.stringify(plan.journal)}\n`);
process.kill(process.pid, 'SIGKILL');
