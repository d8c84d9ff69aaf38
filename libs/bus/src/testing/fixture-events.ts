/**
 * Known events for specs of the topics' readers (`tidemark events tail`, the Python audit consumer): the golden
 * fixtures of `schemas/<area>/fixtures/`, moved to a job of the test's own, published the way Tidemark's producers
 * publish (single-object encoding by the workspace codec, the topic's key rule, an idempotent producer), and the
 * JSON a correct reader must print for each (the fixture JSON form of `fixture-json.ts`, read as the current
 * version).
 */
import * as fs from 'node:fs';
import type { Producer } from 'kafkajs';
import { defaultCodec } from '../codec';
import { fromFixtureJson, toFixtureJson, type FixtureFile } from '../fixture-json';
import { publish } from '../kafka';
import { defaultSchemasDir, fixturePath } from '../schema-files';
import type { RecordTopic } from '../topics';
import type { RecordName, RecordTypes } from '../types';

/** One event to publish: a fixture of `record` at `version`, for `jobId`. */
export interface FixtureEvent<R extends RecordName = RecordName> {
  readonly record: R;
  /** The schema version that writes it (older versions prove readers resolve them). */
  readonly version: number;
  /** The value as that version's runtime value. */
  readonly value: unknown;
  /** What a reader prints for it: fixture JSON of the value read as the current version. */
  readonly expected: Record<string, unknown>;
}

/** Where a published event landed. */
export interface PublishedEvent<R extends RecordName = RecordName> extends FixtureEvent<R> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

interface FieldWithDefault {
  readonly name: string;
  readonly type: Parameters<typeof toFixtureJson>[0];
  defaultValue(): unknown;
}

/** The golden fixture of `record` at `version` (default: current), with `jobId` as its job. */
export function fixtureEvent<R extends RecordName>(
  record: R,
  jobId: string,
  version?: number,
): FixtureEvent<R> {
  const schemas = defaultCodec().registry.record(record);
  const writer = schemas.versions.find((v) => v.version === (version ?? schemas.current.version));
  if (writer === undefined) throw new Error(`${record} has no version ${version}`);
  const file = JSON.parse(
    fs.readFileSync(fixturePath(defaultSchemasDir(), record, writer.version), 'utf8'),
  ) as FixtureFile;
  const json: Record<string, unknown> = { ...(file.value as Record<string, unknown>) };
  // Records about a job name it in `jobId`; an audit event names it as its resource.
  const resource = json['resource'] as { kind?: unknown } | undefined;
  if ('jobId' in json) json['jobId'] = jobId;
  else if (resource?.kind === 'job') json['resource'] = { ...resource, id: jobId };
  const expected: Record<string, unknown> = {};
  for (const field of (schemas.current.type as unknown as { fields: FieldWithDefault[] }).fields) {
    expected[field.name] =
      field.name in json ? json[field.name] : toFixtureJson(field.type, field.defaultValue());
  }
  return { record, version: writer.version, value: fromFixtureJson(writer.type, json), expected };
}

/**
 * Publishes `event` to `topic`: with `publish` (the producers' path) when it is the current version, else encoded
 * with its own version and sent with the topic's key rule, as a producer built before the change would have.
 */
export async function publishFixtureEvent<R extends RecordName>(
  producer: Producer,
  topic: RecordTopic<R>,
  event: FixtureEvent<R>,
): Promise<PublishedEvent<R>> {
  const codec = defaultCodec();
  const schemas = codec.registry.record(event.record);
  const value = event.value as RecordTypes[R];
  if (event.version === schemas.current.version) {
    const meta = await publish(producer, topic, value);
    return {
      ...event,
      topic: topic.name,
      partition: meta.partition,
      offset: meta.baseOffset ?? meta.offset ?? '',
    };
  }
  const writer = schemas.versions.find((v) => v.version === event.version)!;
  const [meta] = await producer.send({
    topic: topic.name,
    acks: -1,
    messages: [{ key: topic.keyOf(value), value: codec.encodeVersion(writer, value) }],
  });
  return {
    ...event,
    topic: topic.name,
    partition: meta!.partition,
    offset: meta!.baseOffset ?? meta!.offset ?? '',
  };
}
