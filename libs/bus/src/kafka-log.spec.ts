import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { logLevel } from 'kafkajs';
import { isRetriableProtocolError, kafkaLogCreator, type KafkaLogLevel } from './kafka-log';

function capture(): {
  lines: Array<[KafkaLogLevel, Record<string, unknown>]>;
  log: ReturnType<ReturnType<typeof kafkaLogCreator>>;
} {
  const lines: Array<[KafkaLogLevel, Record<string, unknown>]> = [];
  const log = kafkaLogCreator((level, fields) => lines.push([level, fields]))(logLevel.DEBUG);
  return { lines, log };
}

const entry = (level: logLevel, fields: Record<string, unknown>) => ({
  namespace: 'Connection',
  level,
  label: logLevel[level],
  log: {
    timestamp: '2026-11-26T00:00:00.000Z',
    logger: 'kafkajs',
    message: 'Response ListOffsets(key: 2, version: 3)',
    ...fields,
  },
});

describe('kafkajs log lines', () => {
  it("knows Kafka's retriable protocol errors from kafkajs's table, and nothing else", () => {
    assert.equal(isRetriableProtocolError('This server is not the leader for that topic-partition'), true);
    assert.equal(
      isRetriableProtocolError("The coordinator is loading and hence can't process requests for this group"),
      true,
    );
    assert.equal(isRetriableProtocolError('The record batch size is too large'), false);
    assert.equal(isRetriableProtocolError('Topic authorization failed'), false);
    assert.equal(isRetriableProtocolError(undefined), false);
    // Tidemark's table wins over kafkajs's flag, as in classifyKafkaError (kafkajs marks a rebalance fatal).
    assert.equal(isRetriableProtocolError('The group is rebalancing, so a rejoin is needed'), true);
    assert.equal(isRetriableProtocolError('Specified group generation id is not valid'), true);
  });

  it('writes an ERROR about a leader moving as a self-healing warning', () => {
    const { lines, log } = capture();
    log(entry(logLevel.ERROR, { error: 'This server is not the leader for that topic-partition' }));
    assert.equal(lines.length, 1);
    assert.equal(lines[0]![0], 'warn');
    assert.equal(lines[0]![1]['selfHealing'], true);
    assert.equal(lines[0]![1]['namespace'], 'Connection');
  });

  it('keeps every other ERROR an error, and the other levels as they are', () => {
    const { lines, log } = capture();
    log(entry(logLevel.ERROR, { error: 'The record batch size is too large' }));
    log(entry(logLevel.ERROR, { error: 'Connection timeout' }));
    log(entry(logLevel.WARN, { error: 'This server is not the leader for that topic-partition' }));
    log(entry(logLevel.INFO, {}));
    log(entry(logLevel.DEBUG, {}));
    assert.deepEqual(
      lines.map(([level, fields]) => [level, fields['selfHealing']]),
      [
        ['error', undefined],
        ['error', undefined],
        ['warn', undefined],
        ['info', undefined],
        ['debug', undefined],
      ],
    );
  });
});
