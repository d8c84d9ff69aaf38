import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as kafkajs from 'kafkajs';
import { isRetriable, TidemarkError } from '@tidemark/domain';
import { KafkaOperationError } from './bus-errors';
import {
  classifyKafkaError,
  KAFKA_ERROR_NAME_RULES,
  KAFKA_PROTOCOL_ERROR_RULES,
  toKafkaOperationError,
} from './errors';

// kafkajs' protocol error table (internal module, read here only to check ours against it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protocol = require('kafkajs/src/protocol/error') as {
  errorCodes: { type: string; code: number; retriable: boolean; message: string }[];
  createErrorFromCode: (code: number) => { type: string; code: number; retriable: boolean; message: string };
};

function protocolError(type: string): Error {
  const row = protocol.errorCodes.find((e) => e.type === type);
  assert.ok(row, type);
  // The typings say string | Error; kafkajs builds it from a protocol table row, as here.
  return new kafkajs.KafkaJSProtocolError(protocol.createErrorFromCode(row.code) as unknown as Error);
}

describe('kafkajs error classification table', () => {
  it('names only protocol types kafkajs knows', () => {
    const known = new Set(protocol.errorCodes.map((e) => e.type));
    for (const type of Object.keys(KAFKA_PROTOCOL_ERROR_RULES)) assert.ok(known.has(type), type);
  });

  it('names only kafkajs error classes that exist', () => {
    for (const name of Object.keys(KAFKA_ERROR_NAME_RULES)) {
      assert.equal(typeof (kafkajs as unknown as Record<string, unknown>)[name], 'function', name);
    }
  });

  it('classifies broker errors: too large is fatal, leader moves are retriable, unlisted types follow kafkajs', () => {
    assert.deepEqual(
      [
        protocolError('MESSAGE_TOO_LARGE'),
        protocolError('NOT_LEADER_FOR_PARTITION'),
        protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER'),
      ].map((e) => classifyKafkaError(e).retriable),
      [false, true, false],
    );
    assert.equal(
      classifyKafkaError(protocolError('MESSAGE_TOO_LARGE')).key,
      'KafkaJSProtocolError:MESSAGE_TOO_LARGE',
    );
    // A commit refused because the group rebalanced: the partition's new owner reads the message again.
    for (const type of ['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']) {
      assert.equal(classifyKafkaError(protocolError(type)).retriable, true, type);
    }
    const unlisted = protocol.errorCodes.find((e) => !(e.type in KAFKA_PROTOCOL_ERROR_RULES) && e.retriable);
    assert.ok(unlisted);
    assert.equal(classifyKafkaError(protocolError(unlisted.type)).retriable, true);
  });

  it('classifies client errors by class, retries-exhausted by its cause, aggregates by all parts', () => {
    const conn = new kafkajs.KafkaJSConnectionError('Connection error: ECONNREFUSED');
    assert.equal(classifyKafkaError(conn).retriable, true);
    assert.equal(
      classifyKafkaError(
        new (kafkajs.KafkaJSSASLAuthenticationError as unknown as new (m: string) => Error)('bad password'),
      ).retriable,
      false,
    );
    const exhausted = new kafkajs.KafkaJSNumberOfRetriesExceeded(conn, { retryCount: 5, retryTime: 100 });
    const c = classifyKafkaError(exhausted);
    assert.equal(c.retriable, true);
    assert.equal(c.key, 'KafkaJSNumberOfRetriesExceeded<KafkaJSConnectionError>');
    const agg = new kafkajs.KafkaJSAggregateError('x', [
      protocolError('LEADER_NOT_AVAILABLE'),
      protocolError('INVALID_CONFIG'),
    ]);
    assert.equal(classifyKafkaError(agg).retriable, false);
  });

  it('treats programming errors and unknown values as fatal', () => {
    assert.equal(classifyKafkaError(new TypeError('x is not a function')).retriable, false);
    assert.equal(classifyKafkaError('boom').retriable, false);
    assert.equal(classifyKafkaError(new Error('???')).retriable, false);
  });

  it('wraps failures in KafkaOperationError with the flag and the cause; TidemarkErrors pass through', () => {
    const conn = new kafkajs.KafkaJSConnectionError('Connection error: ECONNREFUSED');
    const wrapped = toKafkaOperationError(conn, 'publish to t', 't');
    assert.ok(wrapped instanceof KafkaOperationError);
    assert.equal(isRetriable(wrapped), true);
    assert.equal(wrapped.cause, conn);
    assert.equal(wrapped.topic, 't');
    const already = new TidemarkError('x', { retriable: false });
    assert.equal(toKafkaOperationError(already, 'y'), already);
  });
});
