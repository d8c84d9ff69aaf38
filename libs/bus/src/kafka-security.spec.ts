import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeKafkaSecurity,
  kafkajsSecurity,
  KafkaSecurityConfigError,
  kafkaSecurityFromEnv,
  PLAINTEXT,
} from './kafka-security';

const SECRET = 'kafka-Secr3t';
const files: Record<string, string> = {
  '/tls/ca.pem': '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n',
  '/tls/client.pem': '-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n',
  '/tls/client.key': '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n',
  '/run/secrets/kafka-password': `${SECRET}\n`,
};
const read = (p: string): string => {
  const text = files[p];
  if (text === undefined) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
  return text;
};
const from = (env: NodeJS.ProcessEnv) => kafkaSecurityFromEnv(env, read);

function refused(env: NodeJS.ProcessEnv, pattern: RegExp): void {
  assert.throws(
    () => from(env),
    (err: unknown) => {
      assert.ok(err instanceof KafkaSecurityConfigError, String(err));
      assert.equal(err.retriable, false);
      assert.match(err.message, pattern);
      assert.doesNotMatch(err.message, new RegExp(SECRET));
      assert.doesNotMatch(err.message, /PRIVATE KEY/);
      return true;
    },
    JSON.stringify(env),
  );
}

describe('kafkaSecurityFromEnv', () => {
  it('is plaintext when nothing is set (the local broker)', () => {
    assert.equal(from({}), PLAINTEXT);
    assert.equal(from({ TIDEMARK_KAFKA_TLS: 'false', KAFKA_BROKERS: 'b:9092' }), PLAINTEXT);
    assert.deepEqual(kafkajsSecurity(PLAINTEXT), {});
  });

  it('reads TLS with a CA, a client certificate and key, and a servername', () => {
    const security = from({
      TIDEMARK_KAFKA_TLS: 'true',
      TIDEMARK_KAFKA_TLS_CA_FILE: '/tls/ca.pem',
      TIDEMARK_KAFKA_TLS_CERT_FILE: '/tls/client.pem',
      TIDEMARK_KAFKA_TLS_KEY_FILE: '/tls/client.key',
      TIDEMARK_KAFKA_TLS_SERVERNAME: 'kafka.internal',
    });
    assert.deepEqual(kafkajsSecurity(security), {
      ssl: {
        ca: files['/tls/ca.pem'],
        cert: files['/tls/client.pem'],
        key: files['/tls/client.key'],
        servername: 'kafka.internal',
      },
    });
    assert.equal(
      describeKafkaSecurity(security),
      'TLS (CA file, client certificate, servername kafka.internal), no SASL',
    );
  });

  it('TLS alone uses the system CAs', () => {
    assert.deepEqual(kafkajsSecurity(from({ TIDEMARK_KAFKA_TLS: 'true' })), { ssl: true });
  });

  it('reads SASL SCRAM-SHA-256 / SCRAM-SHA-512 (any case) with the password inline or from a file', () => {
    const s256 = from({
      TIDEMARK_KAFKA_SASL_MECHANISM: 'scram-sha-256',
      TIDEMARK_KAFKA_SASL_USERNAME: 'tidemark',
      TIDEMARK_KAFKA_SASL_PASSWORD: SECRET,
    });
    assert.deepEqual(kafkajsSecurity(s256), {
      sasl: { mechanism: 'scram-sha-256', username: 'tidemark', password: SECRET },
    });
    const s512 = from({
      TIDEMARK_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      TIDEMARK_KAFKA_SASL_USERNAME: 'tidemark',
      TIDEMARK_KAFKA_SASL_PASSWORD_FILE: '/run/secrets/kafka-password',
    });
    assert.deepEqual(kafkajsSecurity(s512).sasl, {
      mechanism: 'scram-sha-512',
      username: 'tidemark',
      password: SECRET, // the file's final newline is not part of it
    });
    assert.equal(describeKafkaSecurity(s512), 'no TLS, SASL SCRAM-SHA-512 as tidemark');
    assert.doesNotMatch(describeKafkaSecurity(s512), new RegExp(SECRET));
  });

  it('reads SASL PLAIN over TLS', () => {
    const plain = from({
      TIDEMARK_KAFKA_TLS: 'true',
      TIDEMARK_KAFKA_SASL_MECHANISM: 'PLAIN',
      TIDEMARK_KAFKA_SASL_USERNAME: 'u',
      TIDEMARK_KAFKA_SASL_PASSWORD: SECRET,
    });
    assert.deepEqual(kafkajsSecurity(plain), {
      ssl: true,
      sasl: { mechanism: 'plain', username: 'u', password: SECRET },
    });
  });

  it('refuses unknown, half-set and contradictory settings, naming the variable and never the secret', () => {
    const sasl = { TIDEMARK_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', TIDEMARK_KAFKA_SASL_USERNAME: 'u' };
    refused({ TIDEMARK_KAFKA_SASL_PASSWROD: SECRET }, /unknown TIDEMARK_KAFKA_SASL_PASSWROD/);
    refused({ TIDEMARK_KAFKA_TLS_CA: '/tls/ca.pem' }, /unknown TIDEMARK_KAFKA_TLS_CA \(known:/);
    refused({ TIDEMARK_KAFKA_TLS: 'yes' }, /TIDEMARK_KAFKA_TLS must be true or false/);
    refused(
      { TIDEMARK_KAFKA_TLS_CA_FILE: '/tls/ca.pem' },
      /TIDEMARK_KAFKA_TLS_CA_FILE set but TIDEMARK_KAFKA_TLS is not true/,
    );
    refused(
      { TIDEMARK_KAFKA_TLS: 'true', TIDEMARK_KAFKA_TLS_CERT_FILE: '/tls/client.pem' },
      /TIDEMARK_KAFKA_TLS_CERT_FILE and TIDEMARK_KAFKA_TLS_KEY_FILE go together/,
    );
    refused(
      { TIDEMARK_KAFKA_TLS: 'true', TIDEMARK_KAFKA_TLS_CA_FILE: '/tls/missing.pem' },
      /TIDEMARK_KAFKA_TLS_CA_FILE=\/tls\/missing\.pem: cannot read the CA certificates \(ENOENT\)/,
    );
    refused(
      { TIDEMARK_KAFKA_SASL_USERNAME: 'u', TIDEMARK_KAFKA_SASL_PASSWORD: SECRET },
      /set without TIDEMARK_KAFKA_SASL_MECHANISM/,
    );
    refused(
      { ...sasl, TIDEMARK_KAFKA_SASL_MECHANISM: 'GSSAPI', TIDEMARK_KAFKA_SASL_PASSWORD: SECRET },
      /must be one of SCRAM-SHA-256, SCRAM-SHA-512, PLAIN, got "GSSAPI"/,
    );
    refused(
      { TIDEMARK_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256', TIDEMARK_KAFKA_SASL_PASSWORD: SECRET },
      /TIDEMARK_KAFKA_SASL_USERNAME is not/,
    );
    refused(sasl, /neither TIDEMARK_KAFKA_SASL_PASSWORD nor TIDEMARK_KAFKA_SASL_PASSWORD_FILE/);
    refused(
      {
        ...sasl,
        TIDEMARK_KAFKA_SASL_PASSWORD: SECRET,
        TIDEMARK_KAFKA_SASL_PASSWORD_FILE: '/run/secrets/kafka-password',
      },
      /not both/,
    );
    refused(
      { ...sasl, TIDEMARK_KAFKA_SASL_PASSWORD_FILE: '/run/secrets/none' },
      /cannot read the password \(ENOENT\)/,
    );
    refused(
      { ...sasl, TIDEMARK_KAFKA_SASL_MECHANISM: 'PLAIN', TIDEMARK_KAFKA_SASL_PASSWORD: SECRET },
      /PLAIN sends the password as it is: it needs TIDEMARK_KAFKA_TLS=true/,
    );
  });
});
