import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CommitFloor } from './commit-floor';

describe('CommitFloor', () => {
  it('commits the next offset after each handled message', () => {
    const floor = new CommitFloor();
    assert.equal(floor.handled('t', 0, '5'), '6');
    assert.equal(floor.handled('t', 0, '6'), '7');
    assert.equal(floor.handled('t', 1, '0'), '1', 'partitions are independent');
  });

  it('keeps the commit at a held message until its hold is released', () => {
    const floor = new CommitFloor();
    assert.equal(floor.handled('t', 0, '10'), '11');
    assert.equal(floor.handled('t', 0, '11', { hold: 'fetch:j/s1' }), undefined, 'batch 1 of 3: held');
    assert.equal(floor.handled('t', 0, '12'), undefined, 'another job behind the hold');
    assert.equal(
      floor.handled('t', 0, '13', { hold: 'fetch:j/s1' }),
      undefined,
      'batch 2 keeps the first hold',
    );
    assert.deepEqual(floor.holdsOf('t', 0), ['fetch:j/s1']);
    assert.equal(floor.handled('t', 0, '14', { release: 'fetch:j/s1' }), '15', 'the catalog released it');
  });

  it('commits up to the oldest of several holds', () => {
    const floor = new CommitFloor();
    assert.equal(floor.handled('t', 0, '1', { hold: 'a' }), '1', 'everything before the held message');
    assert.equal(floor.handled('t', 0, '2', { hold: 'b' }), undefined);
    assert.equal(floor.handled('t', 0, '3', { release: 'b' }), undefined, 'a still holds at 1');
    assert.equal(floor.handled('t', 0, '4', { release: 'a' }), '5');
  });

  it('handles offsets beyond 2^53 exactly', () => {
    const floor = new CommitFloor();
    assert.equal(floor.handled('t', 0, '9007199254740993'), '9007199254740994');
  });

  it('starts afresh after a reset', () => {
    const floor = new CommitFloor();
    floor.handled('t', 0, '7', { hold: 'a' });
    floor.reset();
    assert.equal(floor.handled('t', 0, '3'), '4');
  });
});
