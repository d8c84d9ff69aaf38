import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoParseError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { classifyMongoError } from './classify-mongo-error';
import { MONGO_ERROR_RULES } from './mongo-error-rules';

function serverError(code: number, errorLabels: string[] = []): MongoServerError {
  return new MongoServerError({ ok: 0, code, errmsg: `server error ${code}`, errorLabels });
}

describe('classifyMongoError', () => {
  it('calls network errors and their timeout subclass retriable', () => {
    assert.equal(classifyMongoError(new MongoNetworkError('connect ECONNREFUSED')).retriable, true);
    const timeout = classifyMongoError(new MongoNetworkTimeoutError('socket timed out'));
    assert.equal(timeout.retriable, true);
    assert.match(timeout.reason, /network error/);
  });

  it('calls server selection failures retriable', () => {
    const err = new MongoServerSelectionError('Server selection timed out', {
      type: 'ReplicaSetNoPrimary',
    } as never);
    assert.equal(classifyMongoError(err).retriable, true);
  });

  it('trusts the RetryableWriteError and TransientTransactionError labels over the code', () => {
    // 121 alone is fatal (validation); the label says the server wants a retry.
    assert.equal(classifyMongoError(serverError(121, ['RetryableWriteError'])).retriable, true);
    const txn = classifyMongoError(serverError(251, ['TransientTransactionError']));
    assert.equal(txn.retriable, true);
    assert.match(txn.reason, /transient transaction/);
  });

  it('calls replica-set state changes retriable', () => {
    for (const code of [10107, 13435, 13436, 11600, 11602, 189, 91]) {
      assert.equal(classifyMongoError(serverError(code)).retriable, true, `code ${code}`);
    }
    assert.match(classifyMongoError(serverError(10107)).reason, /not writable primary/);
  });

  it('calls authentication and authorization failures fatal', () => {
    const auth = classifyMongoError(serverError(18));
    assert.deepEqual(auth.retriable, false);
    assert.match(auth.reason, /authentication failed/);
    assert.equal(classifyMongoError(serverError(13)).retriable, false);
  });

  it('calls validation, duplicate keys and bad arguments fatal', () => {
    assert.equal(classifyMongoError(serverError(121)).retriable, false);
    assert.equal(classifyMongoError(serverError(11000)).retriable, false);
    assert.equal(classifyMongoError(new MongoInvalidArgumentError('bad option')).retriable, false);
    assert.equal(classifyMongoError(new MongoParseError('bad uri')).retriable, false);
  });

  it('calls a closed client fatal, so a shutting-down consumer does not spin', () => {
    assert.equal(classifyMongoError(new MongoTopologyClosedError()).retriable, false);
  });

  it('calls a certificate failure fatal even though it arrives as a network error', () => {
    const tlsCause = Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' });
    const err = new MongoNetworkError('TLS handshake failed', { cause: tlsCause });
    const verdict = classifyMongoError(err);
    assert.equal(verdict.retriable, false);
    assert.match(verdict.reason, /TLS/);
  });

  it('follows the cause chain of a wrapping error', () => {
    const wrapped = new Error('applying slice failed', { cause: new MongoNetworkError('reset') });
    assert.equal(classifyMongoError(wrapped).retriable, true);
  });

  it('calls unknown server codes, programming errors and non-errors fatal', () => {
    const unknown = classifyMongoError(serverError(999_999));
    assert.equal(unknown.retriable, false);
    assert.match(unknown.reason, /^unknown error/);
    assert.equal(classifyMongoError(new TypeError('x is not a function')).retriable, false);
    assert.equal(classifyMongoError('a string').retriable, false);
    assert.equal(classifyMongoError(undefined).retriable, false);
  });

  it('has one row per label, code and class', () => {
    const keys = MONGO_ERROR_RULES.map((r) =>
      r.kind === 'class'
        ? `class:${r.type.name}`
        : r.kind === 'code'
          ? `code:${r.code}`
          : `${r.kind}:${r.kind === 'label' ? r.label : r.code}`,
    );
    assert.equal(new Set(keys).size, keys.length);
  });
});
