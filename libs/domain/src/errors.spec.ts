import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  IllegalTransitionError,
  InvalidOpTimeError,
  LeaseLostError,
  OplogGapError,
  PhaseRegressionError,
  SchemaMismatchError,
  SliceChecksumError,
  SliceValidationError,
  TidemarkError,
  UnknownOplogCommandError,
  describeError,
  isRetriable,
  showValue,
} from './errors';

describe('TidemarkError', () => {
  it('keeps the retriable flag and the cause it was given', () => {
    const cause = new Error('socket closed');
    const err = new TidemarkError('write failed', { retriable: true, cause });
    assert.equal(err.retriable, true);
    assert.equal(err.cause, cause);
    assert.equal(err.name, 'TidemarkError');
    assert.ok(err instanceof Error);
  });

  it('has no cause property value when none is given', () => {
    assert.equal(new TidemarkError('x', { retriable: false }).cause, undefined);
  });
});

describe('named subclasses', () => {
  const gap = new OplogGapError({
    jobId: 'job-1',
    requestedTs: { t: 100, i: 2 },
    oldestTs: { t: 200, i: 1 },
  });
  const cases: Array<[TidemarkError, string]> = [
    [gap, 'OplogGapError'],
    [new SliceChecksumError({ sliceId: 's1', expected: 'aa', actual: 'bb' }), 'SliceChecksumError'],
    [new SliceValidationError({ reason: 'too big' }), 'SliceValidationError'],
    [new IllegalTransitionError({ from: 'inactive', action: 'stop' }), 'IllegalTransitionError'],
    [new PhaseRegressionError({ from: 'building', to: 'starting' }), 'PhaseRegressionError'],
    [new SchemaMismatchError({ fingerprint: 'abcd' }), 'SchemaMismatchError'],
    [new LeaseLostError({ lease: 'snapshot:job-1', holder: 'pod-a' }), 'LeaseLostError'],
    [new UnknownOplogCommandError({ command: 'frobnicate', ts: { t: 1, i: 1 } }), 'UnknownOplogCommandError'],
    [new InvalidOpTimeError('x', 'bad'), 'InvalidOpTimeError'],
  ];
  for (const [err, name] of cases) {
    it(`${name}: sets its name, is a TidemarkError and is not retriable`, () => {
      assert.equal(err.name, name);
      assert.ok(err instanceof TidemarkError);
      assert.equal(err.retriable, false);
      assert.equal(isRetriable(err), false);
      assert.ok(String(err.stack).startsWith(`${name}:`), 'stack starts with the subclass name');
    });
  }

  it('OplogGapError says the backup requires a resync and keeps its positions', () => {
    assert.match(gap.message, /backup requires a resync/);
    assert.match(gap.message, /job-1/);
    assert.match(gap.message, /200:1/);
    assert.match(gap.message, /100:2/);
    assert.deepEqual(gap.requestedTs, { t: 100, i: 2 });
    assert.deepEqual(gap.oldestTs, { t: 200, i: 1 });
    assert.equal(gap.jobId, 'job-1');
  });

  it('IllegalTransitionError names the state and the action', () => {
    const err = new IllegalTransitionError({ jobId: 'j9', from: 'stopped', action: 'resync' });
    assert.match(err.message, /"resync"/);
    assert.match(err.message, /"stopped"/);
    assert.match(err.message, /j9/);
    assert.equal(err.from, 'stopped');
    assert.equal(err.action, 'resync');
  });

  it('SliceChecksumError keeps expected and actual digests', () => {
    const err = new SliceChecksumError({ sliceId: 's1', expected: 'aa', actual: 'bb', jobId: 'j' });
    assert.equal(err.expected, 'aa');
    assert.equal(err.actual, 'bb');
    assert.match(err.message, /expected sha256 aa, got bb/);
  });

  it('SchemaMismatchError names the schema by name and fingerprint', () => {
    const err = new SchemaMismatchError({
      schemaName: 'tidemark.slices.SliceStored',
      fingerprint: 'ff',
      source: 't',
    });
    assert.match(err.message, /tidemark\.slices\.SliceStored/);
    assert.match(err.message, /fingerprint ff/);
    assert.equal(err.source, 't');
  });

  it('UnknownOplogCommandError keeps the command and its timestamp', () => {
    const err = new UnknownOplogCommandError({ command: 'frob', ts: { t: 7, i: 8 }, namespace: 'db.$cmd' });
    assert.match(err.message, /"frob" at 7:8 on db\.\$cmd/);
  });
});

describe('isRetriable', () => {
  it('is true only for a TidemarkError built with retriable: true', () => {
    assert.equal(isRetriable(new TidemarkError('x', { retriable: true })), true);
    assert.equal(isRetriable(new TidemarkError('x', { retriable: false })), false);
  });

  it('treats unknown errors and non-errors as fatal, even if they claim to be retriable', () => {
    assert.equal(isRetriable(new Error('x')), false);
    assert.equal(isRetriable(Object.assign(new Error('x'), { retriable: true })), false);
    assert.equal(isRetriable({ retriable: true }), false);
    assert.equal(isRetriable(undefined), false);
  });
});

describe('describeError', () => {
  it('gives one line with the cause chain', () => {
    const root = new Error('connect ECONNREFUSED\n127.0.0.1:27017');
    const mid = new TidemarkError('read oplog', { retriable: true, cause: root });
    const top = new TidemarkError('agent stopped', { retriable: false, cause: mid });
    assert.equal(
      describeError(top),
      'TidemarkError: agent stopped <- caused by TidemarkError: read oplog <- caused by Error: connect ECONNREFUSED 127.0.0.1:27017',
    );
  });

  it('describes strings and other values', () => {
    assert.equal(describeError('boom'), 'boom');
    assert.equal(describeError(42), 'non-error value: 42');
    assert.equal(describeError(undefined), 'non-error value: undefined');
    assert.equal(
      describeError(new TidemarkError('x', { retriable: false, cause: 'plain' })),
      'TidemarkError: x <- caused by plain',
    );
  });

  it('stops at a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    assert.equal(describeError(a), 'Error: a <- caused by Error: b <- caused by ...');
  });
});

describe('showValue', () => {
  it('quotes a refused value as JSON, at most 80 characters', () => {
    assert.equal(showValue('k3x'), '"k3x"');
    assert.equal(showValue({ a: 1 }), '{"a":1}');
    assert.equal(showValue(undefined), '(absent)');
    assert.equal(showValue(null), 'null');
    assert.equal(showValue(12n), '12n');
    const long = showValue('x'.repeat(200));
    assert.equal(long.length, 80);
    assert.ok(long.endsWith('...'));
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    assert.equal(showValue(cyclic), '<object>');
  });
});
