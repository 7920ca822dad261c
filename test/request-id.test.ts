import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomRequestId } from '../src/server/app.js';

test('request ids are 8 random bytes in hex, never repeated across refills of their pool', () => {
  const ids = Array.from({ length: 2000 }, randomRequestId);
  for (const id of ids) assert.match(id, /^[0-9a-f]{16}$/);
  assert.equal(new Set(ids).size, ids.length);
});
