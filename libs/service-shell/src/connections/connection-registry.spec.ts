import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JsonLogger } from '../json-logger';
import { ConnectionRegistry } from './connection-registry';

function quietLogger(lines: string[] = []): JsonLogger {
  return new JsonLogger('test', (line) => void lines.push(line));
}

describe('ConnectionRegistry', () => {
  it('closes connections newest first', async () => {
    const closed: string[] = [];
    const registry = new ConnectionRegistry(quietLogger());
    for (const name of ['backup-mongo', 'kafka-admin', 'producer']) {
      registry.add(name, async () => void closed.push(name));
    }
    await registry.onApplicationShutdown();
    assert.deepEqual(closed, ['producer', 'kafka-admin', 'backup-mongo']);
    assert.deepEqual(registry.names(), []);
  });

  it('keeps closing after a failure and rethrows every failure together', async () => {
    const closed: string[] = [];
    const lines: string[] = [];
    const registry = new ConnectionRegistry(quietLogger(lines));
    registry.add('a', async () => void closed.push('a'));
    registry.add('b', async () => {
      throw new Error('b refused to close');
    });
    registry.add('c', async () => void closed.push('c'));
    await assert.rejects(registry.onApplicationShutdown(), (err: unknown) => {
      assert.ok(err instanceof AggregateError);
      assert.equal(err.errors.length, 1);
      return true;
    });
    assert.deepEqual(closed, ['c', 'a']);
    assert.ok(lines.some((l) => l.includes('closing b failed')));
  });
});
