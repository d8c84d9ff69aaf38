/**
 * How kafkajs's own log lines are written. kafkajs logs every failed broker response at ERROR, also the ones it
 * retries and recovers from by itself: a partition whose leader is moving ("This server is not the leader for that
 * topic-partition" right after a topic was created or a broker restarted), a coordinator still loading. An
 * operator reading ERROR must be able to trust that something is wrong, so an ERROR whose error is one of Kafka's
 * *retriable* protocol errors is written as WARN, marked `selfHealing`. Retriable by the bus's one rule (errors.ts):
 * Tidemark's table where it has a row, else kafkajs's own flag; the log line names its error only by message, so
 * kafkajs's protocol table maps the message back to its type.
 * Every other line keeps its level. The level filter (`logLevel` of the client) is applied by kafkajs first.
 */
import { logLevel, type logCreator } from 'kafkajs';
import { KAFKA_PROTOCOL_ERROR_RULES } from './errors';

export type KafkaLogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Where a kafkajs line goes: its level and its fields (`message`, `timestamp`, `logger`, `namespace`, ...). */
export type KafkaLogSink = (level: KafkaLogLevel, fields: Record<string, unknown>) => void;

interface ProtocolErrorEntry {
  readonly type: string;
  readonly message: string;
  readonly retriable: boolean;
}

/** The messages of Kafka's retriable protocol errors (empty if kafkajs's table cannot be read). */
const RETRIABLE_PROTOCOL_ERRORS: ReadonlySet<string> = (() => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const table = require('kafkajs/src/protocol/error') as { errorCodes?: readonly ProtocolErrorEntry[] };
    const retriable = (e: ProtocolErrorEntry): boolean =>
      KAFKA_PROTOCOL_ERROR_RULES[e.type]?.retriable ?? e.retriable;
    return new Set((table.errorCodes ?? []).filter(retriable).map((e) => e.message));
  } catch {
    return new Set<string>();
  }
})();

/** Whether `error` (a kafkajs log line's `error` field) is a protocol error Kafka says a retry can fix. */
export function isRetriableProtocolError(error: unknown): boolean {
  return typeof error === 'string' && RETRIABLE_PROTOCOL_ERRORS.has(error);
}

const LEVEL_NAMES: Readonly<Record<number, KafkaLogLevel>> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs's own format: one JSON line, the level upper-cased first; errors and warnings on stderr. */
export const consoleKafkaLogSink: KafkaLogSink = (level, fields) => {
  const line = JSON.stringify({ level: level.toUpperCase(), ...fields });
  if (level === 'error' || level === 'warn') process.stderr.write(`${line}\n`);
  else process.stdout.write(`${line}\n`);
};

/** A kafkajs `logCreator` writing to `sink`, with self-healing errors as warnings (see the module comment). */
export function kafkaLogCreator(sink: KafkaLogSink = consoleKafkaLogSink): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const selfHealing = level === logLevel.ERROR && isRetriableProtocolError(log['error']);
      const fields: Record<string, unknown> = { ...log, ...(namespace ? { namespace } : {}) };
      if (selfHealing) fields['selfHealing'] = true;
      sink(selfHealing ? 'warn' : (LEVEL_NAMES[level] ?? 'info'), fields);
    };
}
