import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Crc64Ecma } from './crc64';

describe('Crc64Ecma', () => {
  it('gives the CRC-64/XZ check value of "123456789" (Go crc64.ECMA)', () => {
    assert.equal(new Crc64Ecma().update(Buffer.from('123456789')).digest(), 0x995dc9bbdf1939fan);
  });

  it('is 0 for no bytes, and the same over chunks as over the whole', () => {
    assert.equal(new Crc64Ecma().digest(), 0n);
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff));
    const whole = new Crc64Ecma().update(data).digest();
    const chunked = new Crc64Ecma()
      .update(data.subarray(0, 3))
      .update(data.subarray(3, 700))
      .update(data.subarray(700));
    assert.equal(chunked.digest(), whole);
  });

  it("matches the CRC mongodump wrote for test.bar in mongo-tools' testdata/test.bar.archive", () => {
    // The archive's one test.bar document ({_id: ObjectId('58ffb124b721bc6c3234333c'), foo: 'bar'}) and its EOF CRC.
    const doc = Buffer.from(
      '23000000075f69640058ffb124b721bc6c3234333c02666f6f000400000062617200' + '00',
      'hex',
    );
    assert.equal(doc.length, 0x23);
    assert.equal(new Crc64Ecma().update(doc).digest(), BigInt.asUintN(64, 0x9369f0f35bec50d9n));
  });
});
