import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert, AlertSeverity } from '@tidemark/domain';
import { alertOfRecord, alertRaisedRecord } from './alert-mapping';
import { defaultCodec } from './codec';

describe('alert mapping', () => {
  const cases: Array<[AlertSeverity, string]> = [
    ['info', 'INFO'],
    ['warning', 'WARNING'],
    ['critical', 'CRITICAL'],
  ];
  for (const [severity, avro] of cases) {
    it(`carries a ${severity} alert as AlertRaised{${avro}} and reads it back unchanged`, () => {
      const alert: Alert = {
        alertId: `SLICE_REJECTED:t:0:${avro}`,
        jobId: severity === 'info' ? null : 'abcd1234',
        severity,
        code: 'SLICE_REJECTED',
        message: 'm',
        context: { topic: 't', offset: '9007199254740993' },
        at: new Date('2030-01-01T00:00:00Z'),
      };
      const record = alertRaisedRecord(alert);
      assert.equal(record.severity, avro);
      const codec = defaultCodec();
      const decoded = codec.decodeAs(
        'tidemark.alerts.AlertRaised',
        codec.encode('tidemark.alerts.AlertRaised', record),
      );
      assert.deepEqual(alertOfRecord(decoded), alert);
    });
  }

  for (const state of ['open', 'closed'] as const) {
    it(`carries job-state's ${state} alert as AlertRaised{state ${state.toUpperCase()}} and reads it back`, () => {
      const alert: Alert = {
        alertId: 'al-abcd1234-x',
        jobId: 'abcd1234',
        severity: 'critical',
        code: 'SNAPSHOT_FAILED',
        message: 'snapshot s1 failed',
        context: { snapshotId: 's1' },
        at: new Date('2030-01-01T00:00:00Z'),
        lifecycle:
          state === 'open'
            ? { state, subject: 'abcd1234' }
            : {
                state,
                subject: 'abcd1234',
                closedAt: new Date('2030-01-01T01:00:00Z'),
                closeReason: 'snapshot s2 completed',
              },
      };
      const record = alertRaisedRecord(alert);
      assert.equal(record.state, state === 'open' ? 'OPEN' : 'CLOSED');
      const codec = defaultCodec();
      const decoded = codec.decodeAs(
        'tidemark.alerts.AlertRaised',
        codec.encode('tidemark.alerts.AlertRaised', record),
      );
      assert.deepEqual(alertOfRecord(decoded), alert);
    });
  }

  it('reads a stage-raised alert (state null) without a lifecycle', () => {
    const record = alertRaisedRecord({
      alertId: 'a',
      jobId: 'abcd1234',
      severity: 'critical',
      code: 'RESYNC_REQUIRED',
      message: 'm',
      context: {},
      at: new Date('2030-01-01T00:00:00Z'),
    });
    assert.equal(record.state, null);
    assert.equal(alertOfRecord(record).lifecycle, undefined);
  });
});
