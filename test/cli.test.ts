import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { getJson, queueCounts, upload, waitUntil } from './helpers/api.js';
import { solidJpeg, solidPng, solidWebp } from './helpers/images.js';
import { launcherFlags, repoRoot, runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-dir.js';

describe('openrecall CLI', () => {
  it('runs node with the same flags from `npm start` as from the installed command (a small young generation)', () => {
    assert.ok(launcherFlags.includes('--max-semi-space-size=4'), `the launcher's flags: ${launcherFlags.join(' ')}`);
    const start = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).scripts.start as string;
    assert.equal(start, `node ${launcherFlags.join(' ')} bin/openrecall.js start`);
  });

  const servers: ServerProcess[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('imports a folder through the upload path, with timestamps from Unix-time names, and skips it the second time', async () => {
    const dataDir = tempDir();
    const server = await startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'none' });
    servers.push(server);
    const folder = tempDir();
    fs.mkdirSync(path.join(folder, 'nested'));
    fs.writeFileSync(path.join(folder, '1700000000.png'), await solidPng(100, 80, '#101010'));
    fs.writeFileSync(path.join(folder, '1700000100.5.webp'), await solidWebp(100, 80));
    fs.writeFileSync(path.join(folder, 'nested', '1700000200123.jpg'), await solidJpeg(100, 80));
    fs.writeFileSync(path.join(folder, 'holiday.png'), await solidPng(100, 80, '#202020'));
    fs.utimesSync(path.join(folder, 'holiday.png'), 1_650_000_000, 1_650_000_000);
    fs.writeFileSync(path.join(folder, 'notes.txt'), 'not an image');
    fs.writeFileSync(path.join(folder, 'broken.png'), 'not really a png');

    const env = { OPENRECALL_API_URL: server.api, OPENRECALL_DATA_DIR: dataDir };
    const first = runCli(['import', folder], env);
    const { code } = await first.exited;
    assert.equal(code, 1, 'exit code says one file failed');
    assert.match(first.output(), /imported 4, skipped 0 already imported, failed 1/);
    assert.match(first.output(), /broken\.png: 415/);
    assert.match(first.output(), /importing/);

    const { body } = await getJson(`${server.api}/entries?limit=50`);
    const timestamps = body.entries.map((e: any) => e.timestamp).sort();
    assert.deepEqual(timestamps, [1_650_000_000, 1_700_000_000, 1_700_000_100.5, 1_700_000_200.123]);

    const second = runCli(['import', folder], env);
    await second.exited;
    assert.match(second.output(), /imported 0, skipped 4 already imported, failed 1/);
  });

  it('imports with an embedded server when none is running, and the frames are processed at the next start', async () => {
    const dataDir = tempDir();
    const folder = tempDir();
    fs.writeFileSync(path.join(folder, '1700000000.png'), await solidPng(100, 80));
    const cli = runCli(['import', folder], { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_API_URL: 'http://127.0.0.1:9/api', OPENRECALL_OCR_ENGINE: 'none' });
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.output());
    assert.match(cli.output(), /embedded/);
    assert.match(cli.output(), /imported 1/);
    const server = await startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'none' });
    servers.push(server);
    const { body } = await getJson(`${server.api}/entries`);
    assert.equal(body.entries.length, 1);
  });

  it("prints the running server's queue status, and says clearly when no server answers", async () => {
    const server = await startServerProcess(tempDir(), { OPENRECALL_OCR_ENGINE: 'none' });
    servers.push(server);
    const status = runCli(['status'], { OPENRECALL_API_URL: server.api });
    assert.equal((await status.exited).code, 0);
    assert.match(status.output(), /pending\s+0/);
    assert.match(status.output(), /mode\s+FIFO \(LIFO when pending > 10\)/);
    const json = runCli(['status', '--json'], { OPENRECALL_API_URL: server.api });
    await json.exited;
    assert.equal(JSON.parse(json.output()).queue.completed, 0);
    const none = runCli(['status'], { OPENRECALL_API_URL: 'http://127.0.0.1:9/api' });
    assert.equal((await none.exited).code, 1);
    assert.match(none.output(), /no server answering at http:\/\/127\.0\.0\.1:9\/api/);
  });

  it('searches from the terminal: a readable table, filters, JSON', async () => {
    const server = await startServerProcess(tempDir(), { OPENRECALL_OCR_ENGINE: 'none' });
    servers.push(server);
    const env = { OPENRECALL_API_URL: server.api };
    await upload(server.api, { image: await solidPng(40, 30, '#111111'), app: 'Sheets', title: 'Quarterly budget 2027', timestamp: 1_760_000_000 });
    await upload(server.api, { image: await solidPng(40, 30, '#222222'), app: 'Mail', title: 'Budget approval needed', timestamp: 1_760_000_500 });
    await waitUntil(async () => (await queueCounts(server.api)).completed === 2, { what: 'processed' });

    const table = runCli(['search', 'budget'], env);
    assert.equal((await table.exited).code, 0, table.output());
    assert.match(table.output(), /ID\s+TIME\s+APP\s+WINDOW\s+MATCH/);
    assert.match(table.output(), /Sheets\s+Quarterly budget 2027/);
    assert.match(table.output(), /Mail\s+Budget approval needed/);
    assert.match(table.output(), /2 of 2 frame\(s\), keyword search/);

    const filtered = runCli(['search', 'budget', '--app', 'Mail', '--json'], env);
    await filtered.exited;
    const body = JSON.parse(filtered.output());
    assert.deepEqual(
      body.results.map((r: { title: string }) => r.title),
      ['Budget approval needed'],
    );

    const since = runCli(['search', 'budget', '--since', '2025-10-09T09:00:00Z', '--limit', '5'], env);
    await since.exited;
    assert.doesNotMatch(since.output(), /Quarterly/);
    assert.match(since.output(), /Budget approval needed/);

    const none = runCli(['search', 'zeppelin'], env);
    assert.equal((await none.exited).code, 0);
    assert.match(none.output(), /no matching frames/);

    const bad = runCli(['search', 'x', '--since', 'someday'], env);
    assert.equal((await bad.exited).code, 1);
    assert.match(bad.output(), /invalid field 'start'/);
  });

  it('explains usage for unknown commands and missing arguments', async () => {
    const unknown = runCli(['frobnicate'], {});
    assert.equal((await unknown.exited).code, 2);
    assert.match(unknown.output(), /unknown command "frobnicate"/);
    const missing = runCli(['import'], {});
    assert.equal((await missing.exited).code, 2);
    assert.match(missing.output(), /usage: openrecall import <dir>/);
  });
});
