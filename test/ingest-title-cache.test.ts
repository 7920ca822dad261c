import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { solidPng } from './helpers/images.js';
import { type InjectServer, startInjectServer } from './helpers/inject-app.js';

// A window's title comes again with each of its frames, so the ingest remembers the titles its rules found
// nothing in. A title that held a secret must be redacted every time it comes, not only the first.
describe('window titles at ingest, the same title again and again', () => {
  let server: InjectServer;
  before(async () => {
    server = await startInjectServer();
  });
  after(() => server.close());

  const titleOf = async (title: string, i: number) => {
    const { status, body } = await server.upload({ image: await solidPng(64 + i, 48), title });
    assert.equal(status, 202, JSON.stringify(body));
    const row = server.db.prepare('SELECT title FROM entries WHERE id = ?').get(body.task_id) as { title: string };
    return row.title;
  };

  it('redacts a secret title on every frame, and keeps a clean one as it is', async () => {
    const secret = 'Reset password: Hunter2Secret99 - Browser';
    const clean = 'Quarterly report - Spreadsheet';
    for (let i = 0; i < 3; i++) {
      assert.equal(await titleOf(secret, i), 'Reset password: [redacted] - Browser', `secret title, frame ${i}`);
      assert.equal(await titleOf(clean, i), clean, `clean title, frame ${i}`);
    }
  });
});
