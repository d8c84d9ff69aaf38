/**
 * Golden fixtures: every version of every record keeps a sample value (`schemas/<area>/fixtures/<Record>.v<N>.json`),
 * and the current reader must decode bytes written from it with that version's schema (kafkajs keeps
 * `fixtures/v<N>_response.json` per wire version for the same reason). The recorded fingerprint catches a schema
 * edited in place instead of evolved through `history/`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultCodec } from './codec';
import { fromFixtureJson, toFixtureJson, type FixtureFile } from './fixture-json';
import { defaultSchemasDir, fixturePath } from './schema-files';
import { plain } from './testdata/plain';
import type { RecordName } from './types';

const codec = defaultCodec();
const dir = defaultSchemasDir();

describe('golden fixtures', () => {
  for (const name of codec.registry.recordNames()) {
    const record = codec.registry.record(name as RecordName);
    for (const version of record.versions) {
      describe(`${name} v${version.version}`, () => {
        const file = fixturePath(dir, name, version.version);

        it('has a fixture file naming this record, version and fingerprint', () => {
          assert.ok(fs.existsSync(file), `missing golden fixture ${path.relative(process.cwd(), file)}`);
          const fixture = JSON.parse(fs.readFileSync(file, 'utf8')) as FixtureFile;
          assert.equal(fixture.record, name);
          assert.equal(fixture.version, version.version);
          assert.equal(
            fixture.fingerprint,
            version.fingerprintHex,
            `${name} v${version.version} changed in place (fingerprint ${fixture.fingerprint} → ` +
              `${version.fingerprintHex}): restore it, move it to history/${name.split('.').pop()}.v${version.version}.avsc ` +
              'and make the change in a new version',
          );
          assert.ok(fixture.description.length > 0);
        });

        it('is decoded by the current reader from bytes written with this version', () => {
          const fixture = JSON.parse(fs.readFileSync(file, 'utf8')) as FixtureFile;
          const value = fromFixtureJson(version.type, fixture.value);
          const bytes = codec.encodeVersion(version, value);
          const decoded = codec.decode(bytes, path.basename(file));
          assert.equal(decoded.record, name);
          assert.equal(decoded.writerVersion, version.version);
          const current = record.current;
          assert.ok(current.type.isValid(decoded.value), 'decoded value is valid for the current schema');
          const asJson = toFixtureJson(current.type, decoded.value) as Record<string, unknown>;
          const written = fixture.value as Record<string, unknown>;
          if (version === current) {
            assert.deepEqual(asJson, written);
            assert.deepEqual(plain(decoded.value), plain(value));
          } else {
            // Fields both versions have keep their values; fields added later have their defaults.
            for (const [field, v] of Object.entries(written))
              if (field in asJson) assert.deepEqual(asJson[field], v, field);
          }
        });

        it('round-trips through fixture JSON unchanged (no sloppy numbers or dates)', () => {
          const fixture = JSON.parse(fs.readFileSync(file, 'utf8')) as FixtureFile;
          assert.deepEqual(
            toFixtureJson(version.type, fromFixtureJson(version.type, fixture.value)),
            fixture.value,
          );
        });
      });
    }
  }

  it('leaves no fixture without a schema version', () => {
    const known = new Set(
      codec.registry
        .recordNames()
        .flatMap((n) =>
          codec.registry.record(n as RecordName).versions.map((v) => fixturePath(dir, n, v.version)),
        ),
    );
    for (const area of fs.readdirSync(dir)) {
      const fixtures = path.join(dir, area, 'fixtures');
      if (!fs.existsSync(fixtures)) continue;
      for (const f of fs.readdirSync(fixtures))
        assert.ok(known.has(path.join(fixtures, f)), `orphan fixture ${area}/fixtures/${f}`);
    }
  });
});

describe('fixture JSON', () => {
  it('rejects numbers for longs, missing fields and unknown fields', () => {
    const type = codec.registry.record('tidemark.snapshots.SnapshotEvent').current.type;
    const fixture = JSON.parse(
      fs.readFileSync(fixturePath(dir, 'tidemark.snapshots.SnapshotEvent', 1), 'utf8'),
    ) as FixtureFile;
    const value = fixture.value as Record<string, unknown>;
    assert.throws(() => fromFixtureJson(type, { ...value, opTs: 1 }), /opTs: a long is a decimal string/);
    const { logicalBytes: _bytes, ...missing } = value;
    assert.throws(() => fromFixtureJson(type, missing), /logicalBytes: missing/);
    assert.throws(() => fromFixtureJson(type, { ...value, extra: 1 }), /extra: not a field/);
  });
});
