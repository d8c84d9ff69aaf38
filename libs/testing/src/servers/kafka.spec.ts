import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KAFKA_TEST_SCRAM, kafkaListenerProperties, kafkaSaslState, newClusterId } from './kafka';

describe('newClusterId', () => {
  it('is 22 base64url characters and never starts with "-" (the storage tool would read it as an option)', () => {
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x00)];
    assert.equal(draws[0]!.toString('base64url')[0], '-');
    const id = newClusterId(() => draws.shift()!);
    assert.equal(id, Buffer.alloc(16, 0).toString('base64url'));
    assert.equal(draws.length, 0);
    for (let k = 0; k < 500; k++) assert.match(newClusterId(), /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});

describe('kafkaListenerProperties', () => {
  const lines = kafkaListenerProperties({ port: 19092, controllerPort: 19093, saslPort: 19094 });
  const prop = (name: string): string | undefined =>
    lines.find((l) => l.startsWith(`${name}=`))?.slice(name.length + 1);

  it('binds every listener, the SCRAM one included, to 127.0.0.1 only', () => {
    const listeners = prop('listeners')!.split(',');
    assert.deepEqual(listeners, [
      'PLAINTEXT://127.0.0.1:19092',
      'SASL_PLAINTEXT://127.0.0.1:19094',
      'CONTROLLER://127.0.0.1:19093',
    ]);
    assert.equal(
      prop('advertised.listeners'),
      'PLAINTEXT://127.0.0.1:19092,SASL_PLAINTEXT://127.0.0.1:19094',
    );
    assert.equal(prop('inter.broker.listener.name'), 'PLAINTEXT', 'brokers and services keep plaintext');
  });

  it('enables SCRAM-SHA-256 and SCRAM-SHA-512 on the SASL listener, with the JAAS module of each', () => {
    assert.equal(prop('sasl.enabled.mechanisms'), 'SCRAM-SHA-256,SCRAM-SHA-512');
    assert.match(prop('listener.security.protocol.map')!, /SASL_PLAINTEXT:SASL_PLAINTEXT/);
    for (const m of ['scram-sha-256', 'scram-sha-512'])
      assert.match(
        prop(`listener.name.sasl_plaintext.${m}.sasl.jaas.config`) ?? '',
        /^org\.apache\.kafka\.common\.security\.scram\.ScramLoginModule required;$/,
      );
  });

  it('records the listener and its test user for infra.json', () => {
    assert.deepEqual(kafkaSaslState(19094), {
      brokers: ['127.0.0.1:19094'],
      mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512'],
      username: KAFKA_TEST_SCRAM.username,
      password: KAFKA_TEST_SCRAM.password,
    });
  });
});
