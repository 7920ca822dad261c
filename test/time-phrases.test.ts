import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTimePhrase, timeRange } from '../src/search/time-phrases.js';

// A Wednesday afternoon, in the local time zone of the test process (phrases are local).
const now = new Date(2026, 2, 18, 15, 42, 10);
const at = (y: number, mo: number, d: number, h = 0, mi = 0) => new Date(y, mo - 1, d, h, mi).getTime() / 1000;
const span = (text: string) => parseTimePhrase(text, now);

describe('time phrases', () => {
  it('reads ISO 8601 dates and times and Unix seconds', () => {
    assert.deepEqual(span('2026-03-14T15:00:00Z'), { start: Date.UTC(2026, 2, 14, 15) / 1000, end: Date.UTC(2026, 2, 14, 15) / 1000 });
    assert.deepEqual(span('2026-03-14'), { start: at(2026, 3, 14), end: at(2026, 3, 15) });
    assert.deepEqual(span('1773500000'), { start: 1773500000, end: 1773500000 });
  });

  it('reads a named day with a clock time', () => {
    assert.equal(span('yesterday 14:00')?.start, at(2026, 3, 17, 14));
    assert.equal(span('Yesterday at 2pm')?.start, at(2026, 3, 17, 14));
    assert.equal(span('today 9:30')?.start, at(2026, 3, 18, 9, 30));
    assert.equal(span('14:05')?.start, at(2026, 3, 18, 14, 5));
    assert.equal(span('monday 10:15 am')?.start, at(2026, 3, 16, 10, 15));
    assert.equal(span('12am today'), undefined, 'the time goes last');
  });

  it('reads whole days and parts of days as spans', () => {
    assert.deepEqual(span('yesterday'), { start: at(2026, 3, 17), end: at(2026, 3, 18) });
    assert.deepEqual(span('today'), { start: at(2026, 3, 18), end: at(2026, 3, 19) });
    assert.deepEqual(span('this morning'), { start: at(2026, 3, 18, 6), end: at(2026, 3, 18, 12) });
    assert.deepEqual(span('yesterday afternoon'), { start: at(2026, 3, 17, 12), end: at(2026, 3, 17, 18) });
    assert.deepEqual(span('last night'), { start: at(2026, 3, 17, 18), end: at(2026, 3, 18) });
    assert.deepEqual(span('monday'), { start: at(2026, 3, 16), end: at(2026, 3, 17) });
    assert.deepEqual(span('last wednesday'), { start: at(2026, 3, 11), end: at(2026, 3, 12) }, 'not today');
    assert.deepEqual(span('wednesday'), { start: at(2026, 3, 18), end: at(2026, 3, 19) }, 'today');
    assert.deepEqual(span('this week'), { start: at(2026, 3, 16), end: now.getTime() / 1000 });
    assert.deepEqual(span('last week'), { start: at(2026, 3, 9), end: at(2026, 3, 16) });
  });

  it('reads relative times', () => {
    const t = now.getTime() / 1000;
    assert.deepEqual(span('2 hours ago'), { start: t - 7200, end: t - 7200 });
    assert.deepEqual(span('an hour ago'), { start: t - 3600, end: t - 3600 });
    assert.deepEqual(span('30 min ago'), { start: t - 1800, end: t - 1800 });
    assert.deepEqual(span('last 30 minutes'), { start: t - 1800, end: t });
    assert.deepEqual(span('past 2 days'), { start: t - 2 * 86400, end: t });
    assert.deepEqual(span('now'), { start: t, end: t });
  });

  it('refuses what it cannot read instead of guessing', () => {
    for (const text of ['', 'soon', 'yesterday 25:00', '13pm', 'the day after', '2026-02-30', '42', 'last fortnight', '2026-13-01T10:00']) {
      assert.equal(span(text), undefined, text);
    }
  });
});

describe('time ranges', () => {
  const fail = (message: string) => new Error(message);
  it('take a span phrase whole when no end is given, else run until now', () => {
    const yesterday = parseTimePhrase('yesterday')!;
    assert.deepEqual(timeRange('yesterday', undefined, fail), yesterday);
    const before = Date.now() / 1000;
    const range = timeRange('2 hours ago', undefined, fail);
    assert.ok(Math.abs(range.start - (before - 7200)) < 5);
    assert.ok(range.end >= before);
  });

  it('name the argument that cannot be read, and refuse an end before the start', () => {
    assert.throws(() => timeRange('someday', undefined, fail), /invalid field 'start'.*"someday".*yesterday 14:00/);
    assert.throws(() => timeRange('today', 'whenever', fail), /invalid field 'end'.*"whenever"/);
    assert.throws(() => timeRange('today', 'yesterday', fail), /'end' must be after 'start'/);
  });
});
