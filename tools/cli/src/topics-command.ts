/**
 * `tidemark topics ensure`: creates every topic Tidemark uses (record topics and their dead-letter topics) with the
 * partitions, `max.message.bytes`, `retention.ms` and `cleanup.policy` declared in `libs/bus/src/topics.ts`, and
 * checks those that exist (`ensureTopics`: a too-low `max.message.bytes` is raised, other differences are warned
 * about and never changed). The services do the same for their own topics at start-up; this command is for
 * clusters where they may not create topics (ACLs), and to create them all before a first deployment. Kafka's
 * address and security come from the environment, as for the services. Exit codes: 0 done (warnings included);
 * 1 Kafka failed or refused; 2 wrong usage.
 */
import { resolveEndpoints } from '@tidemark/config';
import { createKafka, ensureTopics, resolveTopics, topicList } from '@tidemark/bus';
import { once, parseCommand } from './args';

export const TOPICS_HELP = `  tidemark topics ensure [--prefix P] [--replication-factor N] [--json]
                                   create every topic Tidemark uses (with its dead-letter topics), with the
                                   declared partitions and configs, and check those that exist; N defaults to
                                   the broker's default.replication.factor; --prefix to TIDEMARK_TOPIC_PREFIX
`;

type Usage = (message: string) => Error;

export async function runTopicsCommand(argv: readonly string[], usage: Usage): Promise<number> {
  const [sub, ...args] = argv;
  if (sub === undefined) throw usage('topics needs a command: ensure');
  if (sub !== 'ensure') throw usage(`unknown topics command ${JSON.stringify(sub)}: use ensure`);
  const parsed = parseCommand(
    args,
    { prefix: 'string', 'replication-factor': 'string', json: 'boolean' },
    usage,
  );
  if (parsed.rest.length > 0) throw usage(`topics ensure: unexpected ${parsed.rest[0]}`);
  const prefix = once(parsed, 'prefix', usage) ?? process.env['TIDEMARK_TOPIC_PREFIX'] ?? '';
  const factorText = once(parsed, 'replication-factor', usage);
  let replicationFactor: number | undefined;
  if (factorText !== undefined) {
    if (!/^[1-9][0-9]?$/.test(factorText))
      throw usage(`--replication-factor must be an integer from 1 to 99, got ${JSON.stringify(factorText)}`);
    replicationFactor = Number(factorText);
  }
  const topics = topicList(resolveTopics({ prefix }));
  const kafka = createKafka({
    brokers: resolveEndpoints().kafka.brokers,
    clientId: 'tidemark-topics-ensure',
  });
  const report = await ensureTopics(
    kafka,
    topics,
    replicationFactor === undefined ? {} : { replicationFactor },
  );
  if (parsed.flag('json')) {
    process.stdout.write(`${JSON.stringify({ topics: topics.length, ...report })}\n`);
  } else {
    for (const t of topics) {
      const done = report.created.includes(t.name) ? 'created' : 'exists';
      process.stdout.write(`${t.name}\t${done}\tpartitions ${t.partitions}\n`);
    }
    for (const a of report.altered)
      process.stdout.write(`${a.topic}\traised max.message.bytes from ${a.from} to ${a.to}\n`);
  }
  for (const w of report.warnings) process.stderr.write(`tidemark: warning: ${w}\n`);
  process.stderr.write(
    `tidemark: ${topics.length} topics: ${report.created.length} created, ${report.existing.length} existing, ` +
      `${report.altered.length} altered, ${report.warnings.length} warnings\n`,
  );
  return 0;
}
