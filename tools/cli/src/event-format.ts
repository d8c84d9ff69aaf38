/**
 * How `tidemark events tail` shows a message of a Tidemark topic: one line per event for operators, or one JSON
 * object per line (`--json`) for scripts. Decoding is the bus's (`defaultCodec`: single-object encoding, resolved to
 * the record's current version); this module only chooses what to show.
 *
 * Line: `<event time> <topic> <partition>@<offset> <job> <EVENT TYPE> <key fields as name=value>`; oplog positions
 * as `t:i`, absent (null) fields left out. A message that does not decode is a line with `ERROR` and the reason.
 * JSON: `{ topic, partition, offset, timestamp, key, record, writerVersion, jobId, event, time, value }`, `value` in
 * the golden fixtures' JSON form (fixture-json.ts: longs as decimal strings, timestamps ISO-8601, bytes base64),
 * except a slice's `payload`, left out and replaced by `payloadBytes` (slices are up to 17 MiB); or
 * `{ topic, partition, offset, timestamp, key, error }` for a message that does not decode.
 */
import { describeError, formatOpTime } from '@tidemark/domain';
import {
  DLQ_HEADERS,
  defaultCodec,
  jobIdOfKey,
  opTimeFromAvroLong,
  toFixtureJson,
  type Decoded,
  type RecordTypes,
} from '@tidemark/bus';

/** A consumed message, as the tail sees it. */
export interface TailedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Kafka's timestamp, ms since the epoch, decimal. */
  readonly timestamp: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;
}

/** What an event is, for the line and the `--job` filter. */
export interface EventSummary {
  /** The backup job it concerns, null for alerts about no job. */
  readonly jobId: string | null;
  /** e.g. `PHASE TRANSFERRING`, `COMMAND TAKE_SNAPSHOT`, `ALERT CRITICAL RESYNC_REQUIRED`. */
  readonly event: string;
  /** When it happened, by the record's own time field. */
  readonly time: Date;
  /** Key fields, in order; null values are left out of the line. */
  readonly fields: readonly (readonly [string, string | null])[];
}

/** A message read: decoded, or the reason it does not decode. */
export type TailedEvent =
  | {
      readonly ok: true;
      readonly message: TailedMessage;
      readonly decoded: Decoded;
      readonly summary: EventSummary;
    }
  | { readonly ok: false; readonly message: TailedMessage; readonly error: string };

const pos = (value: bigint | null): string | null =>
  value === null ? null : formatOpTime(opTimeFromAvroLong(value));
const params = (map: Record<string, string>) => Object.entries(map).map(([k, v]) => [k, v] as const);
type Fields = (readonly [string, string | null])[];

function sliceFields(
  r: RecordTypes['tidemark.slices.SliceStored'] | RecordTypes['tidemark.slices.SliceProduced'],
): Fields {
  return [
    ['sliceId', r.sliceId],
    ['syncId', r.syncId],
    ['ns', r.namespace],
    ['seq', String(r.sequence)],
    ['docs', String(r.docCount)],
    ['firstTs', pos(r.firstTs)],
    ['lastTs', pos(r.lastTs)],
    ['bytes', String(r.compressedBytes)],
  ];
}

/** The summary of a decoded record: its job, event type, time and key fields. */
export function summarize(decoded: Decoded): EventSummary {
  switch (decoded.record) {
    case 'tidemark.phases.PhaseChanged': {
      const r = decoded.value;
      const p = r.progress;
      return {
        jobId: r.jobId,
        event: `PHASE ${r.phase}`,
        time: r.at,
        fields: [
          ['syncId', r.syncId],
          ['stage', r.stage],
          ['docs', `${p.docsCopied}/${p.docsTotal ?? '?'}`],
          ['bytes', `${p.bytesCopied}/${p.bytesTotal ?? '?'}`],
          ['appliedTs', pos(r.appliedTs)],
          ['sourceTs', pos(r.sourceTs)],
          ...params(r.details),
        ],
      };
    }
    case 'tidemark.commands.JobCommand': {
      const r = decoded.value;
      return {
        jobId: r.jobId,
        event: `COMMAND ${r.action}`,
        time: r.issuedAt,
        fields: [['commandId', r.commandId], ...params(r.params)],
      };
    }
    case 'tidemark.alerts.AlertRaised': {
      const r = decoded.value;
      return {
        jobId: r.jobId,
        event: `ALERT ${r.severity} ${r.code}${r.state === null ? '' : ` ${r.state}`}`,
        time: r.at,
        fields: [
          ['alertId', r.alertId],
          ['message', r.message],
          ...params(r.context),
          ...(r.state === null
            ? []
            : ([
                ['subject', r.subject],
                ['closedAt', r.closedAt?.toISOString() ?? null],
                ['closeReason', r.closeReason],
              ] as const)),
        ],
      };
    }
    case 'tidemark.snapshots.SnapshotEvent': {
      const r = decoded.value;
      return {
        jobId: r.jobId,
        event: `SNAPSHOT ${r.event}`,
        time: r.at,
        fields: [
          ['snapshotId', r.snapshotId],
          ['store', r.store],
          ['opTs', pos(r.opTs)],
          ['docs', String(r.documentCount)],
          ['storedBytes', String(r.storedBytes)],
          ['verified', r.verify === null ? null : r.verify.ok ? 'ok' : `damaged:${r.verify.damagedBlocks}`],
          ['requestId', r.requestId],
          ['reason', r.reason],
        ],
      };
    }
    case 'tidemark.restores.RestoreEvent': {
      const r = decoded.value;
      return {
        jobId: r.jobId,
        event: `RESTORE ${r.event}`,
        time: r.at,
        fields: [
          ['restoreId', r.restoreId],
          ['kind', r.kind],
          ['snapshotId', r.snapshotId],
          ['point', r.point],
          ['docs', String(r.documents)],
          ['entries', String(r.entries)],
          ['reason', r.reason],
        ],
      };
    }
    case 'tidemark.audit.AuditEvent': {
      const r = decoded.value;
      return {
        jobId: r.resource.kind === 'job' ? r.resource.id : null,
        event: `AUDIT ${r.outcome} ${r.action}`,
        time: r.at,
        fields: [
          ['actor', r.actor],
          ['project', r.project],
          ['resource', r.resource.id === null ? r.resource.kind : `${r.resource.kind}/${r.resource.id}`],
          ['status', String(r.status)],
          ['stateBefore', r.stateBefore],
          ['stateAfter', r.stateAfter],
          ['reason', r.reason],
          ['requestId', r.requestId],
        ],
      };
    }
    case 'tidemark.slices.SliceProduced': {
      const r = decoded.value;
      return { jobId: r.jobId, event: `SLICE ${r.kind}`, time: r.producedAt, fields: sliceFields(r) };
    }
    case 'tidemark.slices.SliceStored': {
      const r = decoded.value;
      return { jobId: r.jobId, event: `SLICE_STORED ${r.kind}`, time: r.storedAt, fields: sliceFields(r) };
    }
  }
  // Unreachable while every record is handled above; a record added to schemas/ without a case shows plainly.
  const unknown = decoded as { record: string };
  return { jobId: null, event: unknown.record, time: new Date(NaN), fields: [] };
}

function header(message: TailedMessage, name: string): string | undefined {
  const raw = message.headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  return first === undefined ? undefined : first.toString();
}

/** Decodes one message; never throws for what the message holds (the reason is in the result). */
export function readEvent(message: TailedMessage): TailedEvent {
  const source = `${message.topic}/${message.partition}@${message.offset}`;
  if (message.value === null || message.value.length === 0)
    return { ok: false, message, error: 'empty value (not a Tidemark record)' };
  try {
    const decoded = defaultCodec().decode(message.value, source);
    return { ok: true, message, decoded, summary: summarize(decoded) };
  } catch (err) {
    return { ok: false, message, error: describeError(err) };
  }
}

/** The job an event belongs to for `--job`: the record's job, or for an undecodable message its key's job. */
export function jobOf(event: TailedEvent): string | null {
  if (event.ok) return event.summary.jobId;
  const key = event.message.key?.toString();
  return key === undefined ? null : (jobIdOfKey(key) ?? null);
}

const SAFE = /^[^\s"=]+$/;
const quote = (text: string) => (SAFE.test(text) ? text : JSON.stringify(text));

function kafkaTime(message: TailedMessage): string {
  const ms = Number(message.timestamp);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : message.timestamp;
}

function timeText(time: Date): string {
  return Number.isNaN(time.getTime()) ? '-' : time.toISOString();
}

/** One line for operators (no newline). */
export function formatEventLine(event: TailedEvent): string {
  const m = event.message;
  const where = `${m.topic} ${m.partition}@${m.offset}`;
  const dlq = header(m, DLQ_HEADERS.reason);
  const dlqText = dlq === undefined ? '' : ` dlqReason=${quote(dlq)}`;
  if (!event.ok) {
    const key = m.key === null ? '-' : quote(m.key.toString());
    return `${kafkaTime(m)} ${where} ${key} ERROR ${quote(event.error)}${dlqText}`;
  }
  const s = event.summary;
  const fields = s.fields
    .filter((f): f is readonly [string, string] => f[1] !== null)
    .map(([name, value]) => `${name}=${quote(value)}`);
  return [timeText(s.time), where, s.jobId ?? '-', s.event, ...fields].join(' ') + dlqText;
}

/** One JSON object (no newline); see the module comment for its fields. */
export function formatEventJson(event: TailedEvent): string {
  const m = event.message;
  const base = {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    timestamp: kafkaTime(m),
    key: m.key === null ? null : m.key.toString(),
    ...(header(m, DLQ_HEADERS.reason) === undefined ? {} : { dlqReason: header(m, DLQ_HEADERS.reason) }),
  };
  if (!event.ok) return JSON.stringify({ ...base, error: event.error });
  const { decoded, summary } = event;
  const type = defaultCodec().registry.record(decoded.record).current.type;
  const value = toFixtureJson(type, decoded.value) as Record<string, unknown>;
  let payloadBytes: number | undefined;
  if (decoded.record === 'tidemark.slices.SliceProduced') {
    payloadBytes = decoded.value.payload.length;
    delete value['payload'];
  }
  return JSON.stringify({
    ...base,
    record: decoded.record,
    writerVersion: decoded.writerVersion,
    jobId: summary.jobId,
    event: summary.event,
    time: timeText(summary.time),
    value,
    ...(payloadBytes === undefined ? {} : { payloadBytes }),
  });
}
