import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLIENT_EXPIRY_SECONDS, ClientsService } from '../../src/services/clients-service.js';
import type { ClientReport } from '../../src/store/ports.js';
import { openTestStore, STORE_KINDS, type TestStore } from '../helpers/stores.js';

const report = (id: string): ClientReport => ({
  id,
  kind: 'openrecall',
  host: 'h',
  version: null,
  address: '127.0.0.1',
  heartbeat_seconds: 5,
  paused: null,
  state: null,
  buffer_bytes: null,
  buffer_items: null,
});

// Heartbeats are the one write any caller with the token (or anyone, on loopback without one) can repeat with
// made-up ids: the rows they create are capped and expire, in both stores.
for (const kind of STORE_KINDS) {
  describe(`heartbeat client rows are capped and expire (${kind})`, () => {
    let t: TestStore;
    before(async () => {
      t = await openTestStore(kind);
    });
    after(() => t?.cleanup());

    it('prune keeps the most recently seen rows and drops the ones silent too long', async () => {
      const now = Date.now() / 1000;
      for (let i = 0; i < 6; i++) await t.store.clients.report(report(`c${i}`), now - 100 + i);
      await t.store.clients.report(report('ancient'), now - CLIENT_EXPIRY_SECONDS - 10);
      const removed = await t.store.clients.prune(4, now - CLIENT_EXPIRY_SECONDS);
      assert.equal(removed, 3);
      assert.deepEqual(
        (await t.store.clients.list()).map((c) => c.id),
        ['c5', 'c4', 'c3', 'c2'],
      );
    });

    it('the clients list no longer shows a client silent past the expiry, and a new heartbeat removes its row', async () => {
      const service = new ClientsService(t.store.clients, t.store.settings, {
        recording_enabled: true,
        upload_enabled: true,
        ai_processing_enabled: true,
        ui_show_ai: true,
      });
      await t.store.clients.report(report('forgotten'), Date.now() / 1000 - CLIENT_EXPIRY_SECONDS - 60);
      assert.ok(!(await service.list()).some((c) => c.id === 'forgotten'));
      await service.heartbeat(report('newcomer'));
      const ids = (await t.store.clients.list()).map((c) => c.id);
      assert.ok(ids.includes('newcomer'));
      assert.ok(!ids.includes('forgotten'), 'the expired row is deleted, not only hidden');
    });
  });
}
