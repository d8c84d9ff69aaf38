import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readiness } from './readiness';

const ok = (name: string) => ({ name, run: async () => undefined });
const failing = (name: string, message: string) => ({
  name,
  run: async () => {
    throw new Error(message);
  },
});
const hanging = (name: string) => ({ name, run: () => new Promise<void>(() => undefined) });

describe('Readiness', () => {
  it('is ready when every check passes', async () => {
    const report = await new Readiness([ok('kafka'), ok('backup')], 1_000).evaluate();
    assert.deepEqual(report, { status: 'ready', checks: { kafka: 'ok', backup: 'ok' } });
  });

  it("is not ready with the failing check's reason", async () => {
    const report = await new Readiness(
      [ok('kafka'), failing('backup', 'connection refused')],
      1_000,
    ).evaluate();
    assert.equal(report.status, 'not-ready');
    assert.deepEqual(report.checks, { kafka: 'ok', backup: 'connection refused' });
    assert.equal(report.reason, 'backup: connection refused');
  });

  it('gives up on a check that does not answer within the limit', async () => {
    const started = Date.now();
    const report = await new Readiness([hanging('s3'), ok('kafka')], 150).evaluate();
    assert.ok(Date.now() - started < 1_000);
    assert.equal(report.status, 'not-ready');
    assert.match(report.checks['s3'] ?? '', /timed out after 150 ms/);
  });

  it('answers draining once the application shuts down', async () => {
    const readiness = new Readiness([ok('kafka')], 1_000);
    readiness.beforeApplicationShutdown();
    assert.equal((await readiness.evaluate()).status, 'draining');
  });
});
