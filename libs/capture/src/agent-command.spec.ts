import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EJSON, ObjectId } from 'bson';
import { CommandRejectedError, decodeAgentCommand, type JobCommandRecord } from './agent-command';

const record = (action: string, params: Record<string, string>): JobCommandRecord => ({
  commandId: 'c1',
  jobId: 'job00005',
  action,
  issuedAt: new Date(0),
  params,
});
const startParams = {
  syncId: 'job00005-s3',
  syncNo: '3',
  sourceUri: 'mongodb://db.example:27017/?replicaSet=rs0',
  include: '["shop","crm.leads"]',
  exclude: '["shop.tmp"]',
};

describe('decodeAgentCommand', () => {
  it('decodes START / RESTART / RESYNC with their sync and filters', () => {
    for (const action of ['START', 'RESTART', 'RESYNC']) {
      const command = decodeAgentCommand(record(action, startParams));
      assert.equal(command.kind, 'sync');
      assert.ok(command.kind === 'sync');
      assert.equal(command.syncNo, 3);
      assert.equal(command.syncId, 'job00005-s3');
      assert.deepEqual(command.filters, { include: ['shop', 'crm.leads'], exclude: ['shop.tmp'] });
    }
    const none = decodeAgentCommand(record('START', { ...startParams, include: '', exclude: '[]' }));
    assert.ok(none.kind === 'sync');
    assert.deepEqual(none.filters, { include: [], exclude: [] });
    assert.equal(none.readLimit, undefined, 'no readLimit parameter: uncapped');
    const capped = decodeAgentCommand(record('RESYNC', { ...startParams, readLimit: '2.5' }));
    assert.ok(capped.kind === 'sync');
    assert.equal(capped.readLimit, 2.5);
  });

  it('rejects bad sync parameters, naming the parameter', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ ...startParams, syncNo: '0' }, /syncNo/],
      [{ ...startParams, syncNo: '1e3' }, /syncNo/],
      [{ ...startParams, syncId: '' }, /syncId/],
      [{ ...startParams, sourceUri: 'http://x' }, /sourceUri/],
      [{ ...startParams, include: '{"a":1}' }, /include/],
      [{ ...startParams, include: 'shop' }, /include/],
      [{ ...startParams, include: '["admin"]' }, /never backed up/],
      [{ ...startParams, readLimit: '0' }, /parameter readLimit must be greater than 0/],
      [{ ...startParams, readLimit: '-1' }, /parameter readLimit must be a number of MB\/s/],
      [{ ...startParams, readLimit: 'NaN' }, /parameter readLimit/],
      [{ ...startParams, readLimit: '5MB/s' }, /parameter readLimit/],
      [{ ...startParams, readLimit: '1e3' }, /parameter readLimit/],
      [
        { ...startParams, readLimit: '99999' },
        /parameter readLimit must be a number of MB\/s from 0\.01 to 10000/,
      ],
    ];
    for (const [params, message] of bad) {
      assert.throws(
        () => decodeAgentCommand(record('START', params)),
        (err: unknown) => {
          assert.ok(err instanceof CommandRejectedError);
          assert.equal(err.retriable, false);
          assert.match(err.message, message);
          return true;
        },
      );
    }
  });

  it('decodes FETCH_MISSING_DOCUMENTS ids from canonical EJSON, keeping their BSON types', () => {
    const oid = new ObjectId();
    const ids = EJSON.stringify([oid, 5, 'x', { a: 1 }], { relaxed: false });
    const command = decodeAgentCommand(
      record('FETCH_MISSING_DOCUMENTS', { syncId: 's', batch: '2', batches: '4', ns: 'shop.orders', ids }),
    );
    assert.ok(command.kind === 'fetch-missing');
    assert.equal(command.batch, 2);
    assert.equal(command.batches, 4);
    assert.ok(command.ids[0] instanceof ObjectId && (command.ids[0] as ObjectId).equals(oid));
    assert.equal((command.ids[1] as { valueOf(): number }).valueOf(), 5);
    const none = decodeAgentCommand(record('FETCH_MISSING_DOCUMENTS', { syncId: 's', batches: '0' }));
    assert.ok(none.kind === 'fetch-missing' && none.batches === 0 && none.ids.length === 0);
  });

  it('rejects bad FETCH_MISSING_DOCUMENTS parameters', () => {
    const p = { syncId: 's', batch: '1', batches: '2', ns: 'shop.orders', ids: '[1]' };
    assert.throws(
      () => decodeAgentCommand(record('FETCH_MISSING_DOCUMENTS', { ...p, batch: '3' })),
      /after the last batch/,
    );
    assert.throws(
      () => decodeAgentCommand(record('FETCH_MISSING_DOCUMENTS', { ...p, ns: 'orders' })),
      /db.collection/,
    );
    assert.throws(() => decodeAgentCommand(record('FETCH_MISSING_DOCUMENTS', { ...p, ids: '{' })), /EJSON/);
    assert.throws(
      () => decodeAgentCommand(record('FETCH_MISSING_DOCUMENTS', { ...p, ids: '{"a":1}' })),
      /array/,
    );
    const many = JSON.stringify(Array.from({ length: 1001 }, (_, k) => k));
    assert.throws(
      () => decodeAgentCommand(record('FETCH_MISSING_DOCUMENTS', { ...p, ids: many })),
      /at most 1000/,
    );
  });

  it("passes STOP / TERMINATE through and marks other actions as not the agent's", () => {
    assert.equal(decodeAgentCommand(record('STOP', {})).kind, 'stop');
    assert.equal(decodeAgentCommand(record('TERMINATE', {})).kind, 'stop');
    assert.equal(decodeAgentCommand(record('TAKE_SNAPSHOT', {})).kind, 'other');
  });
});
