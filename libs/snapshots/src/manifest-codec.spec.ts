import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { UnknownFormatVersionError } from '@tidemark/domain';
import type { SnapshotManifest } from './manifest';
import {
  decodeManifest,
  encodeManifest,
  manifestChecksum,
  manifestChecksumProblems,
  sealManifest,
  validateManifest,
} from './manifest-codec';
import { ManifestInvalidError } from './snapshot-errors';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

function sampleManifest(overrides: Partial<SnapshotManifest> = {}): SnapshotManifest {
  return {
    format: 1,
    jobId: 'job-1',
    syncId: 'job-1-s1',
    snapshotId: 'snap-1',
    opTime: { t: 4_000_000_000, i: 7 },
    opWallTime: new Date('2026-12-03T10:59:59.123Z'),
    takenAt: new Date('2026-12-03T11:00:00.000Z'),
    completedAt: new Date('2026-12-03T11:00:05.500Z'),
    store: 'filesystem',
    codec: 'gzip',
    chunking: {
      algorithm: 'fastcdc-2020',
      minSize: 16384,
      avgSize: 65536,
      maxSize: 262144,
      normalization: 1,
    },
    namespaces: [
      {
        namespace: 'app.orders',
        documentCount: 3,
        logicalBytes: 300,
        contentHash: hex('orders'),
        options: { validator: { $jsonSchema: { required: ['b', 'a'] } }, capped: false },
        indexes: [
          { v: 2, key: { _id: 1 }, name: '_id_' },
          { v: 2, key: { z: 1, a: -1 }, name: 'z_1_a_-1', unique: true },
        ],
        chunks: [
          { address: hex('c1'), length: 200, storedLength: 120 },
          { address: hex('c2'), length: 100, storedLength: 80 },
        ],
      },
      {
        namespace: 'app.users',
        documentCount: 0,
        logicalBytes: 0,
        contentHash: hex(''),
        options: {},
        indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }],
        chunks: [],
      },
    ],
    logicalBytes: 300,
    storedBytes: 200,
    referencedBytes: 200,
    ...overrides,
  };
}

describe('manifest codec', () => {
  it('writes canonical JSON: sorted keys, no whitespace, "t:i" positions, ISO dates, checksum of the rest', () => {
    const text = encodeManifest(sampleManifest());
    assert.match(
      text,
      /^\{"checksum":"[0-9a-f]{64}","chunking":\{"algorithm":"fastcdc-2020","avgSize":65536,/,
    );
    assert.ok(!/\s(?=(?:[^"]*"[^"]*")*[^"]*$)/.test(text), 'no whitespace outside strings');
    assert.match(text, /"opTime":"4000000000:7"/);
    assert.match(text, /"takenAt":"2026-12-03T11:00:00.000Z"/);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), [...Object.keys(parsed)].sort());
    // The checksum is SHA-256 of exactly the text without its checksum member.
    const without = text.replace(/"checksum":"[0-9a-f]{64}",/, '');
    assert.equal(parsed['checksum'], hex(without));
    assert.equal(parsed['checksum'], manifestChecksum(sampleManifest()));
  });

  it("keeps MongoDB's member order inside options and index specs", () => {
    const text = encodeManifest(sampleManifest());
    assert.match(text, /"key":\{"z":1,"a":-1\}/);
    assert.match(text, /\{"v":2,"key":\{"_id":1\},"name":"_id_"\}/);
    assert.match(
      text,
      /"options":\{"validator":\{"\$jsonSchema":\{"required":\["b","a"\]\}\},"capped":false\}/,
    );
    const back = decodeManifest(text);
    assert.deepEqual(Object.keys(back.namespaces[0]?.indexes[1]?.['key'] as object), ['z', 'a']);
  });

  it('round-trips, and the same manifest always gives the same bytes', () => {
    const text = encodeManifest(sampleManifest());
    const back = decodeManifest(text);
    assert.deepEqual(back, sealManifest(sampleManifest()));
    assert.equal(encodeManifest(back), text);
    assert.equal(decodeManifest(Buffer.from(text)).snapshotId, 'snap-1');
    const minimal = sampleManifest({ opWallTime: undefined, completedAt: undefined });
    delete (minimal as { opWallTime?: Date }).opWallTime;
    delete (minimal as { completedAt?: Date }).completedAt;
    assert.deepEqual(decodeManifest(encodeManifest(minimal)), sealManifest(minimal));
    const encrypted = sampleManifest({ encryption: { algorithm: 'aes-256-gcm', keyId: 'k1' } });
    assert.deepEqual(decodeManifest(encodeManifest(encrypted)).encryption, {
      algorithm: 'aes-256-gcm',
      keyId: 'k1',
    });
  });

  it('detects any change by the checksum', () => {
    const text = encodeManifest(sampleManifest());
    const edited = text.replace('"documentCount":3', '"documentCount":4');
    assert.throws(
      () => decodeManifest(edited),
      (err: unknown) =>
        err instanceof ManifestInvalidError && /checksum: manifest hashes to/.test(err.message),
    );
    const sealed = sealManifest(sampleManifest());
    assert.deepEqual(manifestChecksumProblems(sealed), []);
    assert.equal(manifestChecksumProblems({ ...sealed, storedBytes: 1 }).length, 1);
    assert.deepEqual(manifestChecksumProblems(sampleManifest()), ['checksum: missing']);
    assert.throws(() => decodeManifest(text.replace(/"checksum":"[0-9a-f]{64}",/, '')), /checksum: missing/);
  });

  it('checks the format version first', () => {
    const text = encodeManifest(sampleManifest()).replace('"format":1', '"format":3');
    assert.throws(
      () => decodeManifest(text, 'file x'),
      (err: unknown) => {
        assert.ok(err instanceof UnknownFormatVersionError);
        assert.equal(err.found, 3);
        assert.match(err.message, /snapshot manifest at file x/);
        return true;
      },
    );
    assert.throws(() => decodeManifest('{}'), UnknownFormatVersionError);
  });

  it('lists every problem of untrusted input with its path', () => {
    const bad = {
      format: 1,
      jobId: '',
      snapshotId: 's',
      opTime: '12:99999999999',
      takenAt: '2026-13-01',
      store: 'tape',
      codec: 'gzip',
      chunking: { algorithm: 'fastcdc-2020', minSize: 100, avgSize: 50, maxSize: 10 },
      namespaces: [
        {
          namespace: 'nodot',
          documentCount: -1,
          logicalBytes: 5,
          contentHash: 'XYZ',
          options: [],
          indexes: [1],
          chunks: [{ address: 'abc', length: 1.5 }],
          extra: true,
        },
      ],
      logicalBytes: 6,
      storedBytes: 0,
      referencedBytes: '0',
    };
    assert.throws(
      () => decodeManifest(JSON.stringify(bad)),
      (err: unknown) => {
        assert.ok(err instanceof ManifestInvalidError);
        const expected = [
          /^jobId: must be a non-empty string/,
          /^syncId: missing/,
          /^opTime: invalid oplog timestamp/,
          /^takenAt: must be an ISO 8601/,
          /^store: must be one of blockstore, s3, filesystem/,
          /^chunking: need 0 < minSize <= avgSize <= maxSize/,
          /^namespaces\[0\]\.extra: unknown field/,
          /^namespaces\[0\]\.namespace: must be "<db>.<collection>"/,
          /^namespaces\[0\]\.documentCount: must be a non-negative integer/,
          /^namespaces\[0\]\.contentHash: must be 64 lowercase hex digits/,
          /^namespaces\[0\]\.options: must be an object/,
          /^namespaces\[0\]\.indexes\[0\]: must be an object/,
          /^namespaces\[0\]\.chunks\[0\]\.address: must be 64 lowercase hex digits/,
          /^namespaces\[0\]\.chunks\[0\]\.length: must be a non-negative integer/,
          /^referencedBytes: must be a non-negative integer/,
        ];
        for (const pattern of expected) {
          assert.ok(
            err.problems.some((p) => pattern.test(p)),
            `${pattern} in ${err.problems.join(' | ')}`,
          );
        }
        assert.equal(err.snapshotId, 's');
        return true;
      },
    );
    assert.throws(() => decodeManifest('{not json'), /not JSON/);
    assert.throws(() => decodeManifest('[1]'), /not a JSON object/);
  });

  it('checks sums and order', () => {
    const m = sampleManifest();
    const [orders, users] = m.namespaces as [
      SnapshotManifest['namespaces'][0],
      SnapshotManifest['namespaces'][0],
    ];
    assert.deepEqual(validateManifest(m), []);
    assert.match(
      validateManifest({ ...m, logicalBytes: 1 }).join(),
      /logicalBytes: is 1, the namespaces sum to 300/,
    );
    assert.match(
      validateManifest({ ...m, namespaces: [{ ...orders, logicalBytes: 299 }, users] }).join(),
      /namespaces\[0\]\.logicalBytes: is 299, the chunks sum to 300/,
    );
    assert.match(validateManifest({ ...m, namespaces: [users, orders] }).join(), /not after/);
    assert.throws(() => encodeManifest({ ...m, storedBytes: -1 }), ManifestInvalidError);
    assert.throws(
      () => encodeManifest({ ...m, namespaces: [{ ...orders, options: { when: new Date() } }, users] }),
      /namespaces\[0\]\.options\.when: a Date is not plain JSON/,
    );
  });
});
