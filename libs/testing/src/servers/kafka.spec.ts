import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newClusterId } from './kafka';

describe('newClusterId', () => {
  it('is 22 base64url characters and never starts with "-" (the storage tool would read it as an option)', () => {
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x00)];
    assert.equal(draws[0]!.toString('base64url')[0], '-');
    const id = newClusterId(() => draws.shift()!);
    assert.equal(id, Buffer.alloc(16, 0).toString('base64url'));
    assert.equal(draws.length, 0);
    for (let k = 0; k < 500; k++) assert.match(newClusterId(), /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});
