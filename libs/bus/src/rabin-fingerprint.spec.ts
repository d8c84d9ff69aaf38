import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as avro from 'avsc';
import { buildAvroType } from './avro-type';
import {
  CRC64_AVRO_EMPTY,
  crc64Avro,
  crc64AvroOfString,
  fingerprintToBytes,
  fingerprintToHex,
  parsingCanonicalForm,
} from './rabin-fingerprint';

interface Vector {
  input: string;
  canonical: string;
  fingerprint: string | null;
}
const vectors = (
  JSON.parse(fs.readFileSync(path.join(__dirname, 'testdata', 'avro-schema-tests.json'), 'utf8')) as {
    cases: Vector[];
  }
).cases;

describe('CRC-64-AVRO (Rabin) fingerprint', () => {
  it('of the empty input is the EMPTY constant 0xc15d213aa4d7a795', () => {
    assert.equal(crc64Avro(new Uint8Array(0)), 0xc15d213aa4d7a795n);
    assert.equal(CRC64_AVRO_EMPTY, 0xc15d213aa4d7a795n);
  });

  it('of "int" is 0x7275d51a3f395c8f, written c3 01 8f 5c 39 3f 1a d5 75 72 in single-object encoding', () => {
    const fp = crc64AvroOfString('"int"');
    assert.equal(fingerprintToHex(fp), '7275d51a3f395c8f');
    assert.equal(BigInt.asIntN(64, fp), 8247732601305521295n);
    assert.deepEqual(
      [...Buffer.concat([Buffer.from([0xc3, 0x01]), fingerprintToBytes(fp)])],
      [0xc3, 0x01, 0x8f, 0x5c, 0x39, 0x3f, 0x1a, 0xd5, 0x75, 0x72],
    );
  });

  it(`matches every fingerprint of the Avro spec's test vectors (${vectors.filter((v) => v.fingerprint).length})`, () => {
    for (const v of vectors) {
      if (v.fingerprint === null) continue;
      assert.equal(BigInt.asIntN(64, crc64AvroOfString(v.canonical)), BigInt(v.fingerprint), v.canonical);
    }
  });

  it('fingerprints negative (signed) values as unsigned 64-bit bigints', () => {
    const fp = crc64AvroOfString('"null"');
    assert.ok(fp >= 0n && fp < 1n << 64n);
    const boolFp = crc64AvroOfString('"boolean"');
    assert.ok(boolFp >= 1n << 63n, 'the boolean vector is negative as a Java long');
  });
});

describe('Parsing Canonical Form (avsc)', () => {
  // avsc refuses to build these two vectors at all (they are invalid schemas the spec only canonicalizes).
  const refusedByAvsc = [/empty union/, /incompatible field default "true"/];

  it(`matches every canonical form of the Avro spec's test vectors avsc accepts (${vectors.length - 2} of ${vectors.length})`, () => {
    const refused: string[] = [];
    for (const v of vectors) {
      let type: avro.Type;
      try {
        type = avro.Type.forSchema(JSON.parse(v.input) as avro.Schema);
      } catch (err) {
        refused.push((err as Error).message);
        continue;
      }
      assert.equal(parsingCanonicalForm(type), v.canonical, v.input);
    }
    assert.equal(refused.length, refusedByAvsc.length, refused.join('; '));
    refusedByAvsc.forEach((pattern, i) => assert.match(refused[i]!, pattern));
  });

  it("drops logicalType (Tidemark's timestamp-millis type too) and references an already written named type by its full name", () => {
    const schema = {
      type: 'record',
      name: 'R',
      namespace: 'a.b',
      fields: [
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'k1', type: { type: 'enum', name: 'K', symbols: ['X'] } },
        { name: 'k2', type: 'K' },
        { name: 'k3', type: ['null', 'a.b.K'], default: null },
      ],
    };
    assert.equal(
      parsingCanonicalForm(buildAvroType(schema)),
      '{"name":"a.b.R","type":"record","fields":[{"name":"at","type":"long"},' +
        '{"name":"k1","type":{"name":"a.b.K","type":"enum","symbols":["X"]}},' +
        '{"name":"k2","type":"a.b.K"},{"name":"k3","type":["null","a.b.K"]}]}',
    );
  });
});
