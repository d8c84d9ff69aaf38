import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal128 } from 'bson';
import { sampleManifest, sampleRecord } from '@tidemark/snapshots-contract';
import {
  checkRecordToWrite,
  manifestToJson,
  manifestToText,
  newestFirst,
  recordFromStored,
} from './record-codec';
import { SnapshotRecordInvalidError } from './store-errors';

describe('snapshot record codec', () => {
  const takenAt = new Date('2026-12-03T10:15:00.250Z');

  it('round-trips a manifest through relaxed Extended JSON, dates and BSON values included', () => {
    const manifest = sampleManifest('j1', 'j1-snap-1', takenAt, {
      namespaces: [
        {
          ...sampleManifest('j1', 'j1-snap-1', takenAt).namespaces[0]!,
          options: { validator: { price: { $gte: Decimal128.fromString('0.01') } } },
        },
      ],
    });
    const json = manifestToJson(manifest);
    assert.deepEqual(json['takenAt'], { $date: '2026-12-03T10:15:00.250Z' });
    for (const stored of [json, JSON.parse(JSON.stringify(json)) as unknown, manifestToText(manifest)]) {
      const back = recordFromStored(
        { jobId: 'j1', snapshotId: 'j1-snap-1', state: 'complete', manifest: stored },
        'here',
        { jobId: 'j1', snapshotId: 'j1-snap-1' },
      );
      assert.deepEqual(back, { state: 'complete', manifest });
    }
  });

  it('refuses a record that is not what it claims, naming where it is', () => {
    const text = manifestToText(sampleManifest('j1', 'j1-snap-1', takenAt));
    const base = { jobId: 'j1', snapshotId: 'j1-snap-1', state: 'complete', manifest: text };
    const cases: Array<[Record<string, unknown>, { jobId: string; snapshotId?: string }, RegExp]> = [
      [{ ...base, jobId: '../j1' }, { jobId: 'j1' }, /jobId "\.\.\/j1" is not a job id/],
      [base, { jobId: 'j2' }, /jobId j1 is not j2/],
      [base, { jobId: 'j1', snapshotId: 'j1-snap-2' }, /snapshotId j1-snap-1 is not j1-snap-2/],
      [{ ...base, state: 'COMPLETE' }, { jobId: 'j1' }, /state "COMPLETE" is not one of/],
      [{ ...base, reason: 7 }, { jobId: 'j1' }, /reason is not a string/],
      [{ ...base, manifest: '{' }, { jobId: 'j1' }, /manifest is not Extended JSON/],
      [{ ...base, manifest: '[1]' }, { jobId: 'j1' }, /manifest is not an object/],
      [
        { ...base, snapshotId: 'j1-snap-9' },
        { jobId: 'j1' },
        /manifest.snapshotId "j1-snap-1" is not j1-snap-9/,
      ],
      [
        { ...base, manifest: '{"jobId":"j1","snapshotId":"j1-snap-1"}' },
        { jobId: 'j1' },
        /takenAt is not a date/,
      ],
    ];
    for (const [fields, expected, message] of cases) {
      assert.throws(
        () => recordFromStored(fields as never, 'db.snapshots _id "x"', expected),
        (err: unknown) =>
          err instanceof SnapshotRecordInvalidError &&
          err.where === 'db.snapshots _id "x"' &&
          message.test(err.message),
        String(message),
      );
    }
  });

  it('checks a record before writing it', () => {
    const r = sampleRecord('j1', 'j1-snap-1', takenAt);
    assert.deepEqual(checkRecordToWrite(r), { jobId: 'j1', snapshotId: 'j1-snap-1' });
    assert.throws(() => checkRecordToWrite({ ...r, state: 'done' as never }), RangeError);
    assert.throws(
      () => checkRecordToWrite({ ...r, manifest: { ...r.manifest, takenAt: new Date(NaN) } }),
      RangeError,
    );
  });

  it('orders newest takenAt first, then by snapshot id', () => {
    const a = sampleRecord('j1', 'a', new Date(1000));
    const b = sampleRecord('j1', 'b', new Date(2000));
    const c = sampleRecord('j1', 'c', new Date(2000));
    assert.deepEqual([a, c, b].sort(newestFirst), [b, c, a]);
  });
});
