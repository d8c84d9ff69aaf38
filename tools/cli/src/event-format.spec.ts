import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultCodec, DLQ_HEADERS, type RecordName } from '@tidemark/bus';
import { fixtureEvent } from '@tidemark/bus-testing';
import { formatEventJson, formatEventLine, jobOf, readEvent, type TailedMessage } from './event-format';
import { parseStartPoint, selectTopics } from './events-command';

const usage = (m: string) => new Error(m);

function message(record: RecordName, jobId: string, extra: Partial<TailedMessage> = {}): TailedMessage {
  const e = fixtureEvent(record, jobId);
  return {
    topic: 't',
    partition: 2,
    offset: '41',
    timestamp: '1768552200000',
    key: Buffer.from(jobId),
    value: defaultCodec().encode(record, e.value as never),
    ...extra,
  };
}

describe('event lines', () => {
  it('shows every record with its job, event type and key fields, oplog positions as t:i', () => {
    const expected: Record<RecordName, RegExp> = {
      'tidemark.phases.PhaseChanged':
        /^\S+Z t 2@41 j1 PHASE TRANSFERRING syncId=sync-0001 stage=head-builder docs=150000\/1000000 /,
      'tidemark.commands.JobCommand':
        /^2026-01-16T08:30:00.000Z t 2@41 j1 COMMAND VERIFY_SNAPSHOT commandId=cmd-0107 /,
      'tidemark.alerts.AlertRaised':
        /^\S+ t 2@41 j1 ALERT CRITICAL SNAPSHOT_FAILED CLOSED alertId=al-job7f3a1-k2x9q4m1 message="snapshot .* subject=job7f3a1 closedAt=2026-01-15T18:00:37.000Z closeReason="snapshot \S+ completed"$/,
      'tidemark.snapshots.SnapshotEvent':
        / SNAPSHOT VERIFIED snapshotId=\S+ store=S3 opTs=1700003600:12 .*reason="2 blocks/,
      'tidemark.restores.RestoreEvent': / RESTORE COMPLETED restoreId=\S+ kind=POINT_IN_TIME /,
      'tidemark.audit.AuditEvent':
        /^2026-01-16T08:30:00.125Z t 2@41 j1 AUDIT REFUSED job.restart actor=3fa9c01b77e2 project=shop resource=job\/j1 status=409 stateBefore=active reason=/,
      'tidemark.slices.SliceProduced':
        / SLICE INITIAL sliceId=\S+ syncId=sync-0001 ns=shop.orders seq=0 docs=2 bytes=90$/,
      'tidemark.slices.SliceStored': / SLICE_STORED OPLOG .* firstTs=1700000000:1 lastTs=1700000042:7 /,
    };
    for (const [record, pattern] of Object.entries(expected)) {
      const line = formatEventLine(readEvent(message(record as RecordName, 'j1')));
      assert.match(line, pattern, record);
      assert.ok(!line.includes('null'), `${record}: null fields are left out: ${line}`);
    }
  });

  it('shows a message that does not decode as an ERROR line with where it is and why, never throws', () => {
    const bad = { ...message('tidemark.phases.PhaseChanged', 'j1'), value: Buffer.from('plain text') };
    const event = readEvent(bad);
    assert.equal(event.ok, false);
    assert.match(formatEventLine(event), /^2026-01-16T08:30:00.000Z t 2@41 j1 ERROR ".*bad-marker.*"$/);
    assert.deepEqual(Object.keys(JSON.parse(formatEventJson(event))), [
      'topic',
      'partition',
      'offset',
      'timestamp',
      'key',
      'error',
    ]);
    const empty = readEvent({ ...bad, value: null, key: null });
    assert.match(formatEventLine(empty), / - ERROR "empty value/);
    const unknownFingerprint = Buffer.from(bad.value!);
    const good = message('tidemark.phases.PhaseChanged', 'j1').value!;
    good.copy(unknownFingerprint, 0, 0, 2);
    assert.match(formatEventLine(readEvent({ ...bad, value: unknownFingerprint })), /ERROR/);
  });

  it('adds the dead-letter reason of a message read from a dead-letter topic', () => {
    const m = message('tidemark.phases.PhaseChanged', 'j1', {
      headers: { [DLQ_HEADERS.reason]: Buffer.from('bad thing') },
    });
    assert.match(formatEventLine(readEvent(m)), / dlqReason="bad thing"$/);
    assert.equal(JSON.parse(formatEventJson(readEvent(m)))['dlqReason'], 'bad thing');
  });

  it('--json: the value in fixture JSON form, a slice payload replaced by its size', () => {
    const e = fixtureEvent('tidemark.slices.SliceProduced', 'j1');
    const json = JSON.parse(formatEventJson(readEvent(message('tidemark.slices.SliceProduced', 'j1'))));
    const { payload, ...rest } = e.expected;
    assert.deepEqual(json.value, rest);
    assert.equal(json.payloadBytes, Buffer.from(String(payload), 'base64').length);
    assert.equal(json.record, 'tidemark.slices.SliceProduced');
    assert.equal(json.writerVersion, 1);
    assert.equal(json.event, 'SLICE INITIAL');
  });

  it('--job: a record by its job, an undecodable message by its key', () => {
    assert.equal(jobOf(readEvent(message('tidemark.phases.PhaseChanged', 'j1'))), 'j1');
    const bad = {
      ...message('tidemark.phases.PhaseChanged', 'j1'),
      value: Buffer.from('x'),
      key: Buffer.from('j2/shop.a'),
    };
    assert.equal(jobOf(readEvent(bad)), 'j2');
    assert.equal(jobOf(readEvent({ ...bad, key: null })), null);
  });
});

describe('events tail arguments', () => {
  it('--from: earliest, latest (default), an ISO time with a zone, or a date; anything else is refused', () => {
    assert.deepEqual(parseStartPoint(undefined, usage), { kind: 'latest' });
    assert.deepEqual(parseStartPoint('earliest', usage), { kind: 'earliest' });
    assert.deepEqual(parseStartPoint('2026-01-16T08:30:00+01:00', usage), {
      kind: 'time',
      at: new Date('2026-01-16T07:30:00Z'),
    });
    assert.deepEqual(parseStartPoint('2026-01-16', usage), {
      kind: 'time',
      at: new Date('2026-01-16T00:00:00Z'),
    });
    for (const bad of ['2026-01-16T08:30:00', 'yesterday', '2026-13-40T00:00:00Z', '1700000000'])
      assert.throws(() => parseStartPoint(bad, usage), /--from takes/, bad);
  });

  it('--topic: full, base or short names, each once; default every record topic, no dead-letter topics', () => {
    const all = selectTopics([], 'p', usage).map((t) => t.name);
    assert.equal(all.length, 9);
    assert.ok(all.every((n) => n.startsWith('p.tidemark.') && !n.endsWith('.dlq')));
    assert.deepEqual(
      selectTopics(['phases', 'tidemark.phases', 'p.tidemark.phases', 'commands.dlq'], 'p', usage).map(
        (t) => t.name,
      ),
      ['p.tidemark.phases', 'p.tidemark.commands.dlq'],
    );
    assert.throws(
      () => selectTopics(['tidemark.nope'], 'p', usage),
      /unknown topic "tidemark.nope": use one of/,
    );
  });
});
