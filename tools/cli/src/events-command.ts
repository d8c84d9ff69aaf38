/**
 * `tidemark events tail`: Tidemark's topics as operators read them (event-tail.ts reads, event-format.ts shows).
 * See `EVENTS_HELP`. Exit codes: 0 stopped by `--max`, `--idle-ms` or a signal; 1 failed (Kafka, a missing
 * topic); 2 wrong usage. Undecodable messages are shown as `ERROR` lines and do not change the exit code.
 */
import { resolveEndpoints } from '@tidemark/config';
import { createKafka, resolveTopics, topicList, type Topic } from '@tidemark/bus';
import { once, parseCommand } from './args';
import { formatEventJson, formatEventLine } from './event-format';
import { tailEvents, type StartPoint } from './event-tail';

export const EVENTS_HELP = `  tidemark events tail [--topic T]... [--job ID] [--from earliest|latest|TIME] [--max N] [--idle-ms MS]
                       [--prefix P] [--json]
                                   print the events on Tidemark's topics, one line each (time, topic,
                                   partition@offset, job, event type, key fields), or one JSON object per line;
                                   T is a topic's full or short name (tidemark.phases or phases; default every
                                   record topic; dead-letter topics by name, e.g. phases.dlq); TIME is ISO-8601
                                   with a zone (2026-01-16T08:30:00Z) or a date; default --from latest; stops on
                                   Ctrl-C / SIGTERM, after N events or MS without a message; never commits offsets
`;

type Usage = (message: string) => Error;

function positiveInteger(text: string | undefined, name: string, usage: Usage): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text) || !Number.isSafeInteger(Number(text)))
    throw usage(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** `earliest`, `latest` or an ISO-8601 time with a zone (or a date, meaning its UTC midnight). */
export function parseStartPoint(text: string | undefined, usage: Usage): StartPoint {
  if (text === undefined || text === 'latest') return { kind: 'latest' };
  if (text === 'earliest') return { kind: 'earliest' };
  const at = new Date(text);
  if (!ISO_TIME.test(text) || Number.isNaN(at.getTime())) {
    throw usage(
      `--from takes earliest, latest or an ISO-8601 time with a zone (e.g. 2026-01-16T08:30:00Z), got ${JSON.stringify(text)}`,
    );
  }
  return { kind: 'time', at };
}

/**
 * The topics named by `--topic` (full name, name without the prefix, or without `tidemark.`), or every record
 * topic (not the dead-letter topics) when none is named.
 */
export function selectTopics(names: readonly string[], prefix: string, usage: Usage): Topic[] {
  const all = topicList(resolveTopics({ prefix }));
  if (names.length === 0) return all.filter((t) => t.value !== null);
  const chosen: Topic[] = [];
  for (const name of names) {
    const topic = all.find((t) => t.name === name || t.base === name || t.base === `tidemark.${name}`);
    if (topic === undefined) {
      const short = all.map((t) => t.base.replace(/^tidemark\./, ''));
      throw usage(`unknown topic ${JSON.stringify(name)}: use one of ${short.join(', ')}`);
    }
    if (!chosen.includes(topic)) chosen.push(topic);
  }
  return chosen;
}

export async function runEventsCommand(argv: readonly string[], usage: Usage): Promise<number> {
  const [sub, ...args] = argv;
  if (sub !== 'tail') throw usage(`unknown events command ${JSON.stringify(sub)}: use tail`);
  const parsed = parseCommand(
    args,
    {
      topic: 'string',
      job: 'string',
      from: 'string',
      max: 'string',
      'idle-ms': 'string',
      prefix: 'string',
      json: 'boolean',
    },
    usage,
  );
  if (parsed.rest.length > 0) throw usage(`events tail: unexpected ${parsed.rest[0]}`);
  const prefix = once(parsed, 'prefix', usage) ?? process.env['TIDEMARK_TOPIC_PREFIX'] ?? '';
  const topics = selectTopics(parsed.values('topic'), prefix, usage);
  const from = parseStartPoint(once(parsed, 'from', usage), usage);
  const jobId = once(parsed, 'job', usage);
  if (jobId === '') throw usage('--job needs a job id');
  const max = positiveInteger(once(parsed, 'max', usage), 'max', usage);
  const idleMs = positiveInteger(once(parsed, 'idle-ms', usage), 'idle-ms', usage);
  const json = parsed.flag('json');

  const kafka = createKafka({ brokers: resolveEndpoints().kafka.brokers, clientId: 'tidemark-events-tail' });
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (!abort.signal.aborted) process.stderr.write(`tidemark: ${signal}: stopping\n`);
    abort.abort();
  };
  // `on`, not `once`: a second signal (Ctrl-C pressed twice) must not kill the process before it left Kafka.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await tailEvents({
      kafka,
      topics,
      topicsNamed: parsed.values('topic').length > 0,
      from,
      ...(jobId === undefined ? {} : { jobId }),
      ...(max === undefined ? {} : { max }),
      ...(idleMs === undefined ? {} : { idleMs }),
      signal: abort.signal,
      emit: (event) => process.stdout.write(`${json ? formatEventJson(event) : formatEventLine(event)}\n`),
      log: (message) => process.stderr.write(`tidemark: ${message}\n`),
    });
    process.stderr.write(
      `tidemark: ${result.shown} event(s) shown (${result.undecodable} undecodable) of ${result.read} read; stopped by ${result.stoppedBy}\n`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
