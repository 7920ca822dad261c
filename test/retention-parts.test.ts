import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RetentionJournal } from '../src/retention/journal.js';
import { DeletionPlan } from '../src/retention/policy.js';
import type { DeletableFrame } from '../src/store/ports.js';
import { tempDir } from './helpers/temp-dir.js';

const DAY = 86_400;
const NOW = 1_760_000_000;
const frame = (id: number, daysAgo: number, bytes = 1000): DeletableFrame => ({
  id,
  timestamp: NOW - daysAgo * DAY,
  bytes,
  processed: 1,
  image_path: `screenshots/${id}.webp`,
});

describe('retention policy (figures in, frames out: no disk, no clock)', () => {
  it('deletes frames older than the retention days, oldest first, and stops at the first one kept', () => {
    const plan = new DeletionPlan({ retentionDays: 7, maxStorageBytes: 0 }, { now: NOW, usedBytes: 10_000, averageThumbnailBytes: 100 }, false);
    const chosen = plan.choose([frame(1, 30), frame(2, 8), frame(3, 6), frame(4, 40)]);
    assert.deepEqual(
      chosen.map((c) => [c.frame.id, c.reason]),
      [
        [1, 'age'],
        [2, 'age'],
      ],
    );
    for (const c of chosen) plan.record(c.frame, c.reason);
    const report = plan.finish(7_800);
    assert.deepEqual([report.frames, report.bytes, report.by_age.frames, report.by_budget.frames], [2, 2200, 2, 0]);
    assert.equal(report.used_bytes_after, 7_800);
    assert.equal(report.oldest_timestamp, NOW - 30 * DAY);
  });

  it('deletes just enough of the oldest frames to get under the budget, counting thumbnails at the average size', () => {
    const plan = new DeletionPlan({ retentionDays: 0, maxStorageBytes: 8_000 }, { now: NOW, usedBytes: 10_500, averageThumbnailBytes: 100 }, true);
    // Each frame frees 1 100 bytes: three are needed to go from 10 500 to 7 200.
    const chosen = plan.choose([frame(1, 5), frame(2, 4), frame(3, 3), frame(4, 2), frame(5, 1)]);
    assert.deepEqual(
      chosen.map((c) => [c.frame.id, c.reason]),
      [
        [1, 'budget'],
        [2, 'budget'],
        [3, 'budget'],
      ],
    );
    for (const c of chosen) plan.record(c.frame, c.reason);
    const report = plan.finish(undefined);
    assert.equal(report.used_bytes_after, 10_500 - 3300, 'a dry run estimates the space left');
    assert.equal(report.over_budget, false);
    assert.equal(plan.choose([frame(6, 0)]).length, 0, 'nothing more once under budget');
  });

  it('says when the budget cannot be met with the frames offered', () => {
    const plan = new DeletionPlan({ retentionDays: 0, maxStorageBytes: 1_000 }, { now: NOW, usedBytes: 50_000, averageThumbnailBytes: 0 }, false);
    for (const c of plan.choose([frame(1, 2)])) plan.record(c.frame, c.reason);
    assert.equal(plan.finish(49_000).over_budget, true);
  });
});

describe('retention journal', () => {
  it('reads back what was written, nothing once removed, and refuses a damaged file', () => {
    const dir = tempDir();
    const journal = new RetentionJournal(dir);
    assert.deepEqual(journal.read(), []);
    journal.write([{ id: 3, files: ['screenshots/3.webp', 'thumbnails/3.webp'] }]);
    assert.deepEqual(new RetentionJournal(dir).read(), [{ id: 3, files: ['screenshots/3.webp', 'thumbnails/3.webp'] }]);
    assert.ok(!fs.existsSync(`${journal.path}.tmp`));
    journal.remove();
    assert.deepEqual(journal.read(), []);
    fs.writeFileSync(path.join(dir, 'retention.journal'), '[{"id": 1, "fil');
    assert.throws(() => journal.read(), SyntaxError);
  });
});
