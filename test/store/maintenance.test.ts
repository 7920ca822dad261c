import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { withRedactionScrub } from '../../src/processor/redaction-scrub.js';
import { RULES_VERSION } from '../../src/redaction/index.js';
import { openPostgresStore } from '../../src/store/postgres/pg-store.js';
import type { Store } from '../../src/store/ports.js';
import { createTestDatabase, queryDatabase, type TestDatabase } from '../helpers/postgres.js';
import { newFrame } from '../helpers/store-frames.js';

/** The scrub after `openrecall redact` on PostgreSQL: VACUUM removes the dead row versions holding the old text. */
describe('PostgreSQL scrub', () => {
  let database: TestDatabase | undefined;
  let store: Store | undefined;
  after(async () => {
    await store?.close();
    await database?.drop();
  });

  it('is due once marked, vacuums the old row versions away, and keeps a mark set while it ran', async () => {
    database = await createTestDatabase();
    store = await openPostgresStore(database.url, {});
    const { id } = await store.frames.insertPending(newFrame(1));
    await store.frames.saveResults(id, { text: 'Password: Quokka5Zephyr5q' });
    await store.frames.saveResults(id, { text: 'Password: [redacted]' });
    assert.equal(await store.maintenance.scrubDue(), undefined);
    await store.maintenance.markScrubDue();
    const due = await store.maintenance.scrubDue();
    assert.ok(due !== undefined);
    const dead = async () =>
      Number((await queryDatabase(database!.url, `SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'entries'`))[0]!.n_dead_tup);
    await store.maintenance.scrub(due);
    assert.equal(await store.maintenance.scrubDue(), undefined);
    assert.equal(await dead(), 0, 'no dead row version of entries is left');
    const [vacuumed] = await queryDatabase(database.url, `SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'entries'`);
    assert.ok(vacuumed!.last_vacuum, 'entries was vacuumed');

    // Marked again while a scrub ran (another frame redacted meanwhile): that scrub does not clear the new mark.
    await store.maintenance.markScrubDue();
    const first = (await store.maintenance.scrubDue())!;
    await store.maintenance.markScrubDue();
    await store.maintenance.scrub(first);
    assert.ok((await store.maintenance.scrubDue()) !== undefined, 'the later mark stays');
  });

  it('builds the packed word index again before it scrubs: no word of a redacted frame stays packed', async () => {
    const packed = await createTestDatabase();
    const packedStore = await openPostgresStore(packed.url, { wordSegments: { small: 2, big: 4 } });
    try {
      const ids: number[] = [];
      for (let i = 0; i < 4; i++) {
        const { id } = await packedStore.frames.insertPending(newFrame(i));
        await packedStore.frames.saveResults(id, { text: `Password: Quokka5Zephyr5q frame ${i}` });
        ids.push(id);
      }
      await queryDatabase(packed.url, `UPDATE entries SET status = 'COMPLETED', redaction_version = $1`, [RULES_VERSION]);
      while (await packedStore.wordIndex!.step());
      const packedSecret = async () => (await queryDatabase(packed.url, `SELECT 1 FROM word_packs WHERE lexeme LIKE '%quokka%'`)).length;
      assert.equal(await packedSecret(), 1);

      for (const id of ids) await packedStore.frames.saveResults(id, { text: 'Password: [redacted]' });
      await packedStore.maintenance.markScrubDue();
      const idle = withRedactionScrub(
        packedStore,
        () => {},
        () => undefined,
      );
      assert.equal(await idle(), 1, 'the scrub ran');
      assert.equal(await packedSecret(), 0, 'the redacted word is no longer packed');
      const [packs] = await queryDatabase(packed.url, `SELECT n_dead_tup, last_vacuum FROM pg_stat_user_tables WHERE relname = 'word_packs'`);
      assert.equal(Number(packs!.n_dead_tup), 0, 'no dead pack holds it either');
      assert.ok(packs!.last_vacuum);
      assert.equal((await packedStore.search.keyword({ include: [{ kind: 'word', text: 'redacted' }], exclude: [] }, {}, 'relevance', 10)).total, 4);
    } finally {
      await packedStore.close();
      await packed.drop();
    }
  });
});
