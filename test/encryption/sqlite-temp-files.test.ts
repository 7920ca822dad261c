import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { getJson, upload, waitUntil } from '../helpers/api.js';
import { renderTextImage } from '../helpers/images.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const SECRET_TITLE = 'Payroll export - Zanzibarite ledger';

/**
 * SQLite3 Multiple Ciphers encrypts the database, its WAL and journals, not SQLite's temporary files. A batch of
 * uploads committed in one transaction gives each insert a statement journal (copies of the pages it changes):
 * kept in a file of SQLite's temporary directory, it was plain database pages (titles, app names) on the disk,
 * outside the data dir. SQLITE_TMPDIR points that directory at one this test watches.
 */
describe('an encrypted server writes no SQLite temporary file', { timeout: 300_000 }, () => {
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.stop('SIGKILL');
  });

  it('while batches of concurrent uploads are committed and processed, no file appears in SQLite’s temporary directory', async () => {
    const sqliteTemp = tempDir();
    const created: string[] = [];
    const watcher = fs.watch(sqliteTemp, (_event, name) => created.push(String(name)));
    try {
      server = await startServerProcess(tempDir(), {
        OPENRECALL_ENCRYPTION: 'on',
        OPENRECALL_ENCRYPTION_KEY_FILE: path.join(tempDir(), 'openrecall.key'),
        SQLITE_TMPDIR: sqliteTemp,
      });
      const image = await renderTextImage(['Quarterly ledger totals', 'Zanzibarite account 4410'], { width: 700, height: 160 });
      // 16 at once, three times: rows that arrive while a batch waits for its fsync are committed together.
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => upload(server!.api, { image, title: `${SECRET_TITLE} ${round}-${i}` })));
        for (const answer of answers) assert.equal(answer.status, 202);
      }
      // The processor's statements too (its text saved with the full-text triggers).
      await waitUntil(async () => (await getJson(`${server!.api}/queue/status`)).body.queue.completed >= 2, { what: 'frames processed' });
      const search = await getJson(`${server.api}/search?q=Zanzibarite`);
      assert.ok(search.body.results.length > 0, 'the frames are found: the database works with its temporary data in memory');
      await new Promise((resolve) => setTimeout(resolve, 100)); // inotify events still on their way
      assert.deepEqual(created, [], `SQLite wrote temporary files (plain pages of an encrypted database): ${[...new Set(created)].join(', ')}`);
    } finally {
      watcher.close();
    }
  });
});
