import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkedName, crc32, matchesCheck, uploadCheckOf } from '../src/images/upload-check.js';

describe('the check an incoming upload name carries', () => {
  const bytes = Buffer.from('\x89PNG\r\n\x1a\n and the rest of a screenshot');
  const check = { bytes: bytes.length, crc: crc32(bytes) };

  it('round-trips through the name and matches only the whole, unchanged bytes', () => {
    const name = `screenshots/incoming/${checkedName('5f0c6a1e-8d2b-4c3a-9e7f-0a1b2c3d4e5f', check, 'png')}`;
    assert.deepEqual(uploadCheckOf(name), check);
    assert.equal(matchesCheck(bytes, check), true);
    assert.equal(matchesCheck(bytes.subarray(0, bytes.length - 1), check), false, 'a torn (shorter) file');
    const zeroed = Buffer.from(bytes);
    zeroed.fill(0, 8, 16);
    assert.equal(matchesCheck(zeroed, check), false, 'a file of the right length whose bytes did not reach the disk');
  });

  it('is absent from the names of uploads stored before it (nothing to check them against)', () => {
    assert.equal(uploadCheckOf('screenshots/incoming/5f0c6a1e-8d2b-4c3a-9e7f-0a1b2c3d4e5f.png'), undefined);
  });

  it('continues across the pieces an upload arrives in', () => {
    assert.equal(crc32(bytes.subarray(10), crc32(bytes.subarray(0, 10))), check.crc);
  });
});
