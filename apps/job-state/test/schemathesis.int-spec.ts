/**
 * schemathesis (PyPI, pinned in `libs/testing` `versions.ts`, installed into a virtualenv in the cache) against
 * job-state booted in-process with real Kafka and the backup-side MongoDB, driven by the OpenAPI document job-state
 * serves. It runs with an owner key of a project that holds a job (the job's id, its snapshot's and its restore's are
 * given to the operations that name them, so answers with bodies are checked too, not only refusals), and checks
 * every answer: no 5xx (`not_a_server_error`), every status documented (`status_code_conformance`), the documented
 * content type (`content_type_conformance`) and body schema (`response_schema_conformance`). Bounded: a few
 * examples per operation, a request timeout, and the whole run killed after SCHEMATHESIS_DEADLINE_MS.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Kafka, Producer } from 'kafkajs';
import { createKafka, KafkaSnapshotEventPublisher, producerFor } from '@tidemark/bus';
import type { RunningService } from '@tidemark/service-shell';
import { apiRequest, ensureSchemathesis, layout } from '@tidemark/testing';
import { startJobState } from '../src/job-state-service';
import { makeWorld, OPENAPI_PATH, operationsOf, servedDocument, type World } from './api-world';
import { cleanUp, specWorld } from './support';

const { suffix, prefix, metaDb, oplogStoreDb, endpoints, topics, env } = specWorld('schemathesis', 'st');
/** Test cases per operation and phase. */
const MAX_EXAMPLES = 12;
/** The whole run ends by then (it takes about a minute on a busy 2-core machine). */
const SCHEMATHESIS_DEADLINE_MS = 240_000;
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
];

/** The config file: the key comes from the environment (never on a command line), ids per path. */
function config(w: World): string {
  const operation = (pathRegex: string, parameters: Record<string, string>) =>
    [
      '[[operations]]',
      `include-path-regex = ${JSON.stringify(pathRegex)}`,
      `parameters = { ${Object.entries(parameters)
        .map(([k, v]) => `${JSON.stringify(k)} = ${JSON.stringify(v)}`)
        .join(', ')} }`,
      '',
    ].join('\n');
  return [
    'headers = { Authorization = "Bearer ${TIDEMARK_SCHEMATHESIS_KEY}" }',
    '',
    operation('^/api/v1/jobs/\\{id\\}', { 'path.id': w.job }),
    operation('^/api/v1/snapshots/\\{sid\\}', { 'path.sid': w.snapshot }),
    operation('^/api/v1/restores/\\{id\\}', { 'path.id': w.restore }),
    operation('^/api/v1/projects/\\{name\\}', { 'path.name': w.project }),
  ].join('\n');
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), SCHEMATHESIS_DEADLINE_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('schemathesis against the served OpenAPI document: no 5xx, no answer outside the document', () => {
  let service: RunningService;
  let kafka: Kafka;
  let producer: Producer;
  let world: World;
  let ownerKey = '';
  let schemathesis = '';

  before(async () => {
    schemathesis = await ensureSchemathesis(layout(), (m) => console.log(m));
    service = await startJobState(env);
    kafka = createKafka({ brokers: endpoints.kafka.brokers, clientId: `it-schemathesis-${suffix}` });
    producer = producerFor(kafka);
    await producer.connect();
    world = await makeWorld(
      service.url,
      `st-${suffix}`,
      endpoints.source.uri,
      new KafkaSnapshotEventPublisher(producer, topics.snapshots),
    );
    const minted = await apiRequest<{ key: string }>('POST', `${service.url}/api/v1/keys`, {
      body: { grants: { [world.project]: 'owner' } },
    });
    assert.equal(minted.status, 201);
    ownerKey = minted.body.key;
  });

  after(async () => {
    await producer?.disconnect();
    await service?.app.close();
    await cleanUp({
      kafka,
      backupUri: endpoints.backup.uri,
      prefix,
      databases: [metaDb, oplogStoreDb],
      groups: [`${prefix}.tidemark-job-state`],
    });
  });

  it('finds no server error and no answer the document does not describe', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-schemathesis-'));
    try {
      fs.writeFileSync(path.join(dir, 'schemathesis.toml'), config(world));
      const started = Date.now();
      const { code, output } = await run(
        schemathesis,
        [
          '--config-file',
          path.join(dir, 'schemathesis.toml'),
          '--no-color',
          'run',
          `${service.url}${OPENAPI_PATH}`,
          '--checks',
          CHECKS.join(','),
          '--phases',
          'examples,coverage,fuzzing',
          '--max-examples',
          String(MAX_EXAMPLES),
          '--request-timeout',
          '20',
          '--workers',
          '2',
          '--seed',
          '20261204',
          '--generation-database',
          'none',
          // The live view is a stream that stays open for minutes: not a request/answer schemathesis can check.
          '--exclude-path-regex',
          '/stream$',
          '--suppress-health-check',
          'too_slow,filter_too_much',
        ],
        {
          cwd: dir,
          env: { ...process.env, TIDEMARK_SCHEMATHESIS_KEY: ownerKey },
        },
      );
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      const summary = output.split('\n').slice(-40).join('\n');
      console.log(`schemathesis (${seconds} s, exit ${code}):\n${summary}`);
      assert.ok(!output.includes(ownerKey), 'the key never appears in the output');
      assert.equal(code, 0, output.slice(-20_000));
      // It really ran: every operation of the document was tested, but the document's own route, which
      // schemathesis leaves out when it loads the document from it, and the live view's stream (excluded above).
      const selected = /Selected: (\d+)\/(\d+)/.exec(output);
      const tested = /Tested: (\d+)/.exec(output);
      assert.ok(selected !== null && tested !== null, `no operation counts in:\n${summary}`);
      const documented = operationsOf(await servedDocument(service.url)).length;
      assert.equal(Number(selected[2]), documented - 1, summary);
      assert.equal(Number(selected[1]), documented - 2, summary);
      assert.equal(Number(tested[1]), documented - 2, summary);
      const cases = /(\d+) generated, (\d+) passed/.exec(output);
      assert.ok(cases !== null && Number(cases[1]) >= 200 && cases[1] === cases[2], summary);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
