/** Commands end to end through the supervisor, over the in-memory source and publisher. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EJSON } from 'bson';
import { opTimeEquals, UnsupportedNamespaceError } from '@tidemark/domain';
import type { JobCommandRecord } from './agent-command';
import { DEFAULT_AGENT_SETTINGS, type AgentSettings } from './agent-settings';
import { AgentSupervisor } from './agent-supervisor';
import { CommandHandler, fetchKey } from './command-handler';
import { eventually, MemoryPublisher, TransientError } from './testing/memory-publisher';
import { MemorySource } from './testing/memory-source';

const settings: AgentSettings = { ...DEFAULT_AGENT_SETTINGS, sliceTargetBytes: 4096, oplogFlushMs: 10 };
const URI = 'mongodb://source.example:27017/?replicaSet=rs0';
let seq = 0;
const command = (action: string, jobId: string, params: Record<string, string> = {}): JobCommandRecord => ({
  commandId: `cmd-${++seq}`,
  jobId,
  action,
  issuedAt: new Date(),
  params,
});
const start = (jobId: string, syncNo: number, action = 'START') =>
  command(action, jobId, {
    syncId: `${jobId}-s${syncNo}`,
    syncNo: String(syncNo),
    sourceUri: URI,
    include: '["shop"]',
  });

function setup() {
  const source = new MemorySource();
  source.append('n', '', {});
  source.addCollection(
    'shop.orders',
    Array.from({ length: 50 }, (_, k) => ({ _id: k })),
  );
  const publisher = new MemoryPublisher();
  const uris: string[] = [];
  const sourceFor = async (uri: string) => {
    uris.push(uri);
    return source;
  };
  const supervisor = new AgentSupervisor({ sourceFor, publisher, settings });
  const handler = new CommandHandler(
    { supervisor, sourceFor, publisher, defaultSourceUri: 'mongodb://default:27017' },
    { takenAt: Date.now() - 60_000, jobs: new Map() },
  );
  return { source, publisher, supervisor, handler, uris };
}

describe('CommandHandler with the AgentSupervisor', () => {
  it('a sync command sets the job’s read limit (absent: uncapped) before the transfer reads', async () => {
    const { supervisor, handler } = setup();
    await handler.handle(command('START', 'jobr0001', { ...start('jobr0001', 1).params, readLimit: '0.05' }));
    assert.equal(supervisor.readLimits.limitOf('jobr0001'), 0.05);
    const activity = supervisor.activity('jobr0001')!;
    await activity.transfer;
    await handler.handle(command('STOP', 'jobr0001'));
    await handler.handle(start('jobr0001', 2, 'RESTART'));
    assert.equal(
      supervisor.readLimits.limitOf('jobr0001'),
      undefined,
      'RESTART without the parameter: uncapped',
    );
    await handler.handle(command('STOP', 'jobr0001'));
  });

  it('START begins a transfer (TRANSFERRING published before it resolves) and tails; STOP ends both', async () => {
    const { source, publisher, supervisor, handler } = setup();
    assert.deepEqual(await handler.handle(start('joba0001', 1)), {});
    assert.equal(publisher.phases[0]!.phase, 'transferring', 'the effect began before the commit');
    const activity = supervisor.activity('joba0001')!;
    await activity.transfer;
    assert.equal(publisher.catalogs().length, 1);
    source.append('i', 'shop.orders', { _id: 'late' });
    const last = (await source.latestOplogTs())!;
    await eventually(
      () => opTimeEquals(publisher.shippedTs() ?? { t: 0, i: 0 }, last),
      3_000,
      'tail shipping',
    );
    assert.deepEqual(await handler.handle(command('STOP', 'joba0001')), {});
    assert.equal(supervisor.activity('joba0001'), undefined);
    await activity.done;
  });

  it('RESYNC stops the running sync first, then starts the new one', async () => {
    const { publisher, supervisor, handler } = setup();
    await handler.handle(start('joba0002', 1));
    const first = supervisor.activity('joba0002')!;
    await first.transfer;
    await handler.handle(start('joba0002', 1)); // a late duplicate START of the running sync: skipped
    assert.equal(supervisor.activity('joba0002'), first, 'the running sync was not restarted');
    await handler.handle(start('joba0002', 2, 'RESYNC'));
    await first.done;
    const second = supervisor.activity('joba0002')!;
    assert.equal(second.syncId, 'joba0002-s2');
    await second.transfer;
    assert.deepEqual(
      publisher.catalogs().map((c) => c.namespaces[0]!.docCount),
      [50, 50],
    );
    await supervisor.stopAll();
  });

  it('holds FETCH_MISSING_DOCUMENTS batches until the catalog, then releases', async () => {
    const { handler, publisher, supervisor, uris } = setup();
    await handler.handle(start('joba0003', 1));
    const ids = (k: number[]) => EJSON.stringify(k, { relaxed: false });
    const fetch = (batch: number, list: number[]) =>
      command('FETCH_MISSING_DOCUMENTS', 'joba0003', {
        syncId: 'joba0003-s1',
        batch: String(batch),
        batches: '2',
        ns: 'shop.orders',
        ids: ids(list),
      });
    assert.deepEqual(await handler.handle(fetch(1, [1, 2, 3])), {
      hold: fetchKey('joba0003', 'joba0003-s1'),
    });
    assert.deepEqual(await handler.handle(fetch(2, [4])), { release: fetchKey('joba0003', 'joba0003-s1') });
    const missing = publisher.catalogs().find((c) => c.origin === 'missing')!;
    assert.deepEqual(missing.namespaces, [{ ns: 'shop.orders', sliceCount: 2, docCount: 4 }]);
    assert.ok(
      uris.every((u) => u === URI),
      "the fetch used the job's source",
    );
    await supervisor.stopAll();
  });

  it('raises AGENT_COMMAND_FAILED for a malformed command and lets it be committed', async () => {
    const { handler, publisher } = setup();
    const bad = command('START', 'joba0004', { syncId: 'x', syncNo: 'one', sourceUri: URI });
    assert.deepEqual(await handler.handle(bad), {});
    assert.equal(publisher.alerts[0]!.code, 'AGENT_COMMAND_FAILED');
    assert.match(publisher.alerts[0]!.message, /syncNo/);
  });

  it('rejects on a retriable failure so the message is retried, not committed', async () => {
    const { handler, publisher, supervisor } = setup();
    publisher.failNext('phase', new TransientError('broker unavailable'));
    const cmd = start('joba0005', 1);
    await assert.rejects(handler.handle(cmd), TransientError);
    assert.equal(supervisor.activity('joba0005'), undefined, 'nothing half-started');
    assert.deepEqual(await handler.handle(cmd), {}, 'the retry succeeds');
    assert.equal(supervisor.activity('joba0005')?.syncId, 'joba0005-s1');
    await supervisor.stopAll();
  });

  it('raises INITIAL_SYNC_FAILED and stops the job when its transfer fails', async () => {
    const { handler, publisher, supervisor, source } = setup();
    source.failNextScan('shop.orders', 5, new Error('collection dropped during the scan'));
    await handler.handle(start('joba0006', 1));
    const activity = supervisor.activity('joba0006')!;
    await assert.rejects(activity.transfer!, /collection dropped/);
    await activity.done;
    assert.equal(publisher.alerts[0]!.code, 'INITIAL_SYNC_FAILED');
    assert.equal(supervisor.activity('joba0006'), undefined);
  });

  it('refuses a job that selects a view or time-series collection: INITIAL_SYNC_FAILED names them', async () => {
    const { handler, publisher, supervisor, source } = setup();
    source.failNextListNamespaces(
      new UnsupportedNamespaceError({ namespaces: [{ ns: 'shop.recent', type: 'view' }] }),
    );
    await handler.handle(start('joba0007', 1));
    const activity = supervisor.activity('joba0007')!;
    await assert.rejects(activity.transfer!, UnsupportedNamespaceError);
    await activity.done;
    assert.equal(publisher.alerts[0]!.code, 'INITIAL_SYNC_FAILED');
    assert.match(
      publisher.alerts[0]!.message,
      /does not back up views .* shop\.recent \(a view\).*exclude: \["shop\.recent"\]/,
    );
    assert.equal(supervisor.activity('joba0007'), undefined);
  });
});
