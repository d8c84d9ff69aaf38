/**
 * End to end: snapshots taken while a writer mutates the source equal the source at their recorded position, in each
 * of the three stores. All six services run as processes (agent -> slice-ingest -> head-builder / oplog-applier,
 * snapshotter, job-state); one job per store backs up the same source, and `tidemark snapshot take` is run on each
 * while a light writer inserts, updates, replaces and deletes.
 *
 * The oracle is the source's own oplog, replayed here: the state of a namespace at position P is its documents as
 * loaded (before the source's oplog existed) with the namespace's oplog entries up to P applied in order (FerretDB's
 * `u` entries are whole replacements). Each snapshot's documents, read back from its store with `readNamespace`, must
 * equal that state document for document (canonical Extended JSON, field order included), and its counts must agree.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { resolveEndpoints } from '@tidemark/config';
import { compareOpTime } from '@tidemark/domain';
import { classifyS3Error, createS3Client } from '@tidemark/s3';
import { createSnapshotStore } from '@tidemark/snapshot-stores';
import { readNamespace, verifySnapshot, type SnapshotStore, type StoreKind } from '@tidemark/snapshots';
import {
  ensureDumpCheckPython,
  layout,
  loadedTestSource,
  runWriter,
  seedSource,
  ServiceStack,
  type TestSource,
  type WriterStats,
} from '@tidemark/testing';
import { JobApi, parseTs, suffix, type JobStatus } from './helpers';
import { readDump, summarizeDump } from '@tidemark/restore';
import {
  atOrBefore,
  canonical,
  differences,
  namespaceState,
  parse,
  sourceOplog,
  stateAt,
  type OplogEntry,
} from './source-oracle';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'tools', 'cli', 'bin', 'tidemark.js');
const DUMP_CHECK = path.join(ROOT, 'tools', 'dump-check', 'check_dump.py');
const KINDS: StoreKind[] = ['blockstore', 's3', 'filesystem'];
/** Snapshots per store, taken while the writer runs. */
const SNAPSHOTS = 2;
/** Light: the end-to-end specs run two at a time, and the fairness spec is sensitive to CPU load. */
const WRITES_PER_SECOND = 8;

describe('snapshots while a writer runs equal the source at their position (all six services)', () => {
  let source: TestSource;
  let stack: ServiceStack;
  let backup: MongoClient;
  let dir: string;
  const s = suffix();
  const db = `e2esn${s}_shop`;
  const namespaces = [`${db}.orders`, `${db}.customers`];
  const snapshotDb = `e2e_snap_${s}`;
  const env = {
    TIDEMARK_TOPIC_PREFIX: `e2e-snapshots-${s}`,
    TIDEMARK_META_DB: `e2e_meta_${s}`,
    TIDEMARK_OPLOG_STORE_DB: `e2e_os_${s}`,
    TIDEMARK_SNAPSHOT_DB: snapshotDb,
    TIDEMARK_SNAPSHOT_S3_PREFIX: `e2e-${s}`,
    TIDEMARK_SLICE_TARGET_BYTES: String(512 * 1024),
    TIDEMARK_OPLOG_FLUSH_MS: '500',
    TIDEMARK_APPLY_LEASE_MS: '4000',
    TIDEMARK_EFFECTS_FLUSH_MS: '500',
  };
  const s3Client = createS3Client(resolveEndpoints().s3, { maxAttempts: 1 });
  const jobIds: string[] = [];
  const stores = new Map<string, SnapshotStore>();
  // Shared with the restore test below: the source as loaded, the snapshots taken and their positions, the oplog.
  const initial = new Map<string, Map<string, string>>();
  const taken: Array<{ kind: StoreKind; jobId: string; snapshotId: string; at?: { t: number; i: number } }> =
    [];
  let oplog: OplogEntry[] = [];
  const cli = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        { cwd: ROOT, env: { ...process.env, ...env, TIDEMARK_API_URL: stack.apiUrl }, timeout: 300_000 },
        (err, stdout, stderr) =>
          resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
      );
    });

  before(async () => {
    backup = await new MongoClient(resolveEndpoints().backup.uri).connect();
    dir = await mkdtemp(path.join(tmpdir(), 'tidemark-e2e-snapshots-'));
    source = await loadedTestSource({
      name: 'e2e-snapshots',
      oplogBytes: 16 * 1024 * 1024,
      load: (client) => seedSource(client, { collections: { [namespaces[0]!]: 800, [namespaces[1]!]: 400 } }),
    });
    stack = new ServiceStack(env, `snapshots-${s}`);
    await stack.startAll();
  });

  after(async () => {
    await stack?.stopAll();
    for (const [jobId, store] of stores) await store.deleteJob(jobId).catch(() => undefined);
    await source?.client.db(db).dropDatabase();
    await source?.stop();
    const { databases } = await backup.db('admin').admin().listDatabases({ nameOnly: true });
    for (const d of databases) {
      const mine =
        [env.TIDEMARK_META_DB, env.TIDEMARK_OPLOG_STORE_DB, snapshotDb].includes(d.name) ||
        jobIds.some((id) => d.name.startsWith(`th_${id}_`));
      if (mine) await backup.db(d.name).dropDatabase();
    }
    await backup?.close();
    s3Client.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it(`${SNAPSHOTS} snapshots per store (${KINDS.join(', ')}), each equal to the source replayed to its position`, async () => {
    const api = new JobApi(stack.apiUrl);
    // The source as loaded: nothing has written to it since (its oplog is empty until the writer starts).
    for (const ns of namespaces) initial.set(ns, await namespaceState(source.client, ns));

    const writer = new AbortController();
    const writing = runWriter(source.client, namespaces, writer.signal, WRITES_PER_SECOND);
    let stats: WriterStats;
    const t0 = Date.now();
    try {
      for (const kind of KINDS) {
        await api.ensureProject('e2e');
        const job = await api.call<{ id: string }>('POST', '/api/v1/jobs', {
          project: 'e2e',
          source: { uri: source.uri },
          include: [db],
          snapshotStore: kind === 'filesystem' ? { kind, path: path.join(dir, 'fs') } : { kind },
        });
        jobIds.push(job.id);
        await api.call('POST', `/api/v1/jobs/${job.id}/start`);
      }
      for (const jobId of jobIds) {
        for (;;) {
          const status = await api.call<JobStatus>('GET', `/api/v1/jobs/${jobId}/status`);
          if (status.blocked) throw new Error(`job blocked: ${JSON.stringify(status.blocked)}`);
          if (status.state === 'active') break;
          assert.ok(
            Date.now() - t0 < 240_000,
            `job ${jobId} not active after 240 s: ${JSON.stringify(status)}`,
          );
          await sleep(1000);
        }
      }
      console.log(`three jobs active after ${Date.now() - t0} ms`);
      const applied = async (jobId: string) =>
        (await api.call<JobStatus>('GET', `/api/v1/jobs/${jobId}/status`)).appliedOpTime;
      /** Each job's applied position when its latest snapshot had completed (no snapshot is past it). */
      let snapshotted: (string | null)[] = [];
      // The first snapshots too come after the writer's first entries (each snapshot needs one to leave out).
      const firstWrites = Date.now();
      for (;;) {
        const written = await sourceOplog(source.client, namespaces);
        if (written.length >= 10) {
          const last = written.reduce((a, b) => (compareOpTime(a, b) >= 0 ? a : b));
          snapshotted = jobIds.map(() => `${last.t}:${last.i}`);
          break;
        }
        assert.ok(Date.now() - firstWrites < 120_000, `the writer wrote ${written.length} entries in 120 s`);
        await sleep(500);
      }
      for (let round = 0; round < SNAPSHOTS; round++) {
        await sleep(1500); // the writer moves the source on between snapshots
        // ... and each head applies past its last snapshot, the first past the writer's first entries (however
        // loaded the machine), so every snapshot of a job is of another position, after some writes.
        for (const [k, jobId] of jobIds.entries()) {
          const before = snapshotted[k];
          if (before === undefined || before === null) continue;
          const waitFrom = Date.now();
          for (;;) {
            const now = await applied(jobId);
            if (now !== null && compareOpTime(parseTs(now), parseTs(before)) > 0) break;
            assert.ok(
              Date.now() - waitFrom < 180_000,
              `job ${jobId}: applied position still ${now} 180 s after its snapshot at or before ${before}`,
            );
            await sleep(500);
          }
        }
        const views = await Promise.all(
          KINDS.map(async (kind, k) => {
            const result = await cli('snapshot', 'take', jobIds[k]!, '--json', '--timeout', '120');
            assert.equal(result.code, 0, `${kind}: ${result.stderr}`);
            return JSON.parse(result.stdout) as { id: string; state: string };
          }),
        );
        for (const [k, view] of views.entries()) {
          assert.equal(view.state, 'complete');
          taken.push({ kind: KINDS[k]!, jobId: jobIds[k]!, snapshotId: view.id });
        }
        snapshotted = await Promise.all(jobIds.map(applied));
      }
    } finally {
      writer.abort();
      stats = await writing;
    }
    console.log(`snapshots taken after ${Date.now() - t0} ms; the writer did ${JSON.stringify(stats)}`);
    assert.ok(stats.inserts > 0 && stats.updates > 0 && stats.deletes > 0, JSON.stringify(stats));

    oplog = await sourceOplog(source.client, namespaces);

    const positions = new Set<string>();
    for (const snapshot of taken) {
      const { kind, jobId, snapshotId } = snapshot;
      let store = stores.get(jobId);
      if (store === undefined) {
        store = await createSnapshotStore(kind, {
          mongo: { client: backup, database: snapshotDb },
          ...(kind === 'filesystem' ? { filesystem: { root: path.join(dir, 'fs') } } : {}),
          ...(kind === 's3'
            ? {
                s3: {
                  client: s3Client,
                  bucket: resolveEndpoints().s3.bucket,
                  prefix: env.TIDEMARK_SNAPSHOT_S3_PREFIX,
                  classifyError: classifyS3Error,
                },
              }
            : {}),
        });
        stores.set(jobId, store);
      }
      const record = await store.getSnapshot(jobId, snapshotId);
      assert.equal(record?.state, 'complete', `${kind} ${snapshotId}`);
      const at = record!.manifest.opTime;
      snapshot.at = at;
      positions.add(`${at.t}:${at.i}`);
      const applied = oplog.filter((e) => atOrBefore(e, at)).length;
      let controls = 0;
      assert.deepEqual(
        record!.manifest.namespaces.map((n) => n.namespace).sort(),
        [...namespaces].sort(),
        `${kind} ${snapshotId}: namespaces`,
      );
      for (const ns of record!.manifest.namespaces) {
        const expected = stateAt(initial.get(ns.namespace)!, oplog, ns.namespace, at);
        const actual = new Map<string, string>();
        for await (const bytes of readNamespace(store, record!.manifest, ns)) {
          const doc = parse(bytes);
          actual.set(canonical({ _id: doc['_id'] }), canonical(doc));
        }
        const where = `${kind} ${snapshotId} at ${at.t}:${at.i}, ${ns.namespace}`;
        assert.equal(ns.documentCount, actual.size, `${where}: the manifest's count`);
        const differ = differences(expected, actual);
        assert.deepEqual(
          differ.slice(0, 3).map((id) => ({ id, expected: expected.get(id), snapshot: actual.get(id) })),
          [],
          `${where}: ${differ.length} documents differ from the source replayed to the position (${expected.size} expected, ${actual.size} in the snapshot)`,
        );
        // The control: the namespace's last entry before the position left out of the replay (an insert, an update or
        // a delete: nothing later undoes it), and the comparison sees the difference. (Only deletes were left out
        // before; a snapshot taken before the writer's first delete then had no control, and a CI run failed on it.)
        const last = oplog.filter((e) => e.ns === ns.namespace && atOrBefore(e, at)).at(-1);
        if (last !== undefined) {
          const control = stateAt(initial.get(ns.namespace)!, oplog, ns.namespace, at, last);
          assert.notDeepEqual(differences(control, actual), [], `${where}: the control replay matched too`);
          controls++;
        }
      }
      assert.ok(controls > 0, `${kind} ${snapshotId}: no entry before the position to leave out`);
      const verified = await verifySnapshot(store, record!);
      assert.ok(verified.ok, `${kind} ${snapshotId}: ${JSON.stringify(verified.damage.slice(0, 2))}`);
      console.log(
        `${kind} ${snapshotId}: at ${at.t}:${at.i} (${applied} of ${oplog.length} source entries), ` +
          `${record!.manifest.namespaces.map((n) => `${n.namespace} ${n.documentCount}`).join(', ')}: equal`,
      );
    }
    // The writer moved the source between snapshots: they are not all of one position.
    assert.ok(positions.size > KINDS.length, `only ${positions.size} distinct positions`);
  });

  it('restores: each snapshot from each store, and points in time between, at and after snapshots, equal the source there', async () => {
    assert.ok(taken.length > 0 && taken.every((t) => t.at !== undefined), 'the snapshot test ran first');
    const target = resolveEndpoints().backup.uri;
    const restoreDbs: string[] = [];
    let n = 0;
    const restoreDb = () => {
      const name = `e2ers${s}_${n++}`;
      restoreDbs.push(name);
      return name;
    };
    const opText = (e: { t: number; i: number }) => `${e.t}:${e.i}`;
    // Every stored oplog entry is needed for points up to the source's newest: wait until each head applied it.
    for (const jobId of jobIds) {
      const waited = await cli('job', 'wait', jobId, '--lag-zero', '--timeout', '120');
      assert.equal(waited.code, 0, waited.stderr);
    }
    /** The restored namespaces equal the oracle's state at `at` (`restoredDb` replacing the source's database). */
    const assertRestored = async (restoredDb: string, at: { t: number; i: number }, where: string) => {
      for (const ns of namespaces) {
        const expected = stateAt(initial.get(ns)!, oplog, ns, at);
        const actual = await namespaceState(backup, `${restoredDb}${ns.slice(db.length)}`);
        const differ = differences(expected, actual);
        assert.deepEqual(
          differ.slice(0, 3).map((id) => ({ id, expected: expected.get(id), restored: actual.get(id) })),
          [],
          `${where}, ${ns}: ${differ.length} documents differ (${expected.size} expected, ${actual.size} restored)`,
        );
      }
    };
    try {
      // A snapshot restore from each store equals the snapshot's position.
      // (The CLI runs are concurrent: each spends most of its time starting up.)
      await Promise.all(
        KINDS.map(async (kind) => {
          const snap = taken.find((t) => t.kind === kind)!;
          const into = restoreDb();
          const r = await cli(
            'restore',
            '--snapshot',
            snap.snapshotId,
            '--to',
            target,
            '--rename',
            `${db}=${into}`,
            '--json',
          );
          assert.equal(r.code, 0, `${kind}: ${r.stderr}`);
          const out = JSON.parse(r.stdout) as {
            state: string;
            snapshotId: string;
            at: { opTime: string };
            namespaces: Record<string, { documents: number }>;
          };
          assert.equal(out.state, 'complete');
          assert.equal(out.at.opTime, opText(snap.at!));
          assert.deepEqual(
            Object.keys(out.namespaces).sort(),
            namespaces.map((ns) => `${into}${ns.slice(db.length)}`).sort(),
          );
          await assertRestored(into, snap.at!, `${kind} snapshot ${snap.snapshotId}`);
          console.log(
            `${kind}: snapshot ${snap.snapshotId} restored into ${into}: equal at ${opText(snap.at!)}`,
          );
        }),
      );

      // Dumps: a directory (--dump) and a gzip archive (--archive --gzip), read back by Tidemark's reader (equal to
      // the oracle at the snapshot's position) and by the independent Python reader (the same counts and hashes).
      const python = await ensureDumpCheckPython(layout(), (m) => console.log(m));
      await Promise.all(
        (['dump', 'archive'] as const).map(async (form, k) => {
          const snap = taken.find((t) => t.kind === KINDS[k + 1])!;
          const where = path.join(
            dir,
            `${form}-${snap.snapshotId}${form === 'archive' ? '.archive.gz' : ''}`,
          );
          const args = form === 'dump' ? ['--dump', where] : ['--archive', where, '--gzip'];
          const r = await cli('restore', '--snapshot', snap.snapshotId, ...args, '--json');
          assert.equal(r.code, 0, `--${form}: ${r.stderr}`);
          const dumped = new Map<string, Map<string, string>>(namespaces.map((ns) => [ns, new Map()]));
          for await (const entry of readDump(where)) {
            if (entry.kind !== 'document') continue;
            const d = parse(entry.document);
            dumped.get(entry.ns)?.set(canonical({ _id: d['_id'] }), canonical(d));
          }
          for (const ns of namespaces) {
            const expected = stateAt(initial.get(ns)!, oplog, ns, snap.at!);
            const differ = differences(expected, dumped.get(ns)!);
            assert.deepEqual(
              differ.slice(0, 3),
              [],
              `--${form} of ${snap.snapshotId}, ${ns}: ${differ.length} differ`,
            );
          }
          const ours = await summarizeDump(where);
          const theirs = JSON.parse(
            (await promisify(execFile)(python, [DUMP_CHECK, where], { maxBuffer: 1 << 26 })).stdout,
          ) as Record<string, { documents: number; sha256: string }>;
          for (const ns of namespaces) {
            assert.deepEqual(
              { documents: theirs[ns]?.documents, sha256: theirs[ns]?.sha256 },
              { documents: ours[ns]?.documents, sha256: ours[ns]?.sha256 },
              `--${form}: the Python reader and Tidemark's disagree on ${ns}`,
            );
          }
          console.log(
            `--${form} of ${snap.snapshotId}: equal at ${opText(snap.at!)}, and the Python reader agrees`,
          );
        }),
      );

      // A queryable snapshot: mounted into scratch databases on the backup side, listed, then unmounted (dropped).
      {
        const snap = taken.find((t) => t.kind === 'blockstore')!;
        const mounted = await cli('snapshot', 'mount', snap.snapshotId, '--ttl', '30', '--json');
        assert.equal(mounted.code, 0, mounted.stderr);
        const m = JSON.parse(mounted.stdout) as {
          mountId: string;
          uri: string;
          databases: Record<string, string>;
        };
        const scratch = m.databases[db]!;
        const reader = await new MongoClient(m.uri).connect();
        try {
          for (const ns of namespaces) {
            const expected = stateAt(initial.get(ns)!, oplog, ns, snap.at!);
            const differ = differences(
              expected,
              await namespaceState(reader, `${scratch}${ns.slice(db.length)}`),
            );
            assert.deepEqual(differ.slice(0, 3), [], `mount ${m.mountId}, ${ns}: ${differ.length} differ`);
          }
        } finally {
          await reader.close();
        }
        const listed = await cli('snapshot', 'mounts', '--json');
        assert.ok(
          (JSON.parse(listed.stdout) as Array<{ mountId: string }>).some((x) => x.mountId === m.mountId),
        );
        const gone = await cli('snapshot', 'unmount', m.mountId);
        assert.equal(gone.code, 0, gone.stderr);
        const { databases } = await backup.db('admin').admin().listDatabases({ nameOnly: true });
        assert.ok(!databases.some((d) => d.name === scratch), 'unmount dropped the scratch database');
        console.log(`mount ${m.mountId} of ${snap.snapshotId}: equal at ${opText(snap.at!)}, then unmounted`);
      }

      // Points in time on the job whose two snapshots lie furthest apart: at its first snapshot, right after it,
      // between the two, at the second, and at the source's newest entry.
      const spread = (id: string) => {
        const ats = taken.filter((t) => t.jobId === id).map((t) => t.at!);
        return oplog.filter((e) => !atOrBefore(e, ats[0]!) && atOrBefore(e, ats[ats.length - 1]!)).length;
      };
      const jobId = [...jobIds].sort((a, b) => spread(b) - spread(a))[0]!;
      const mine = taken.filter((t) => t.jobId === jobId).map((t) => t.at!);
      const [first, second] = [mine[0]!, mine[mine.length - 1]!];
      const between = oplog.filter((e) => !atOrBefore(e, first) && atOrBefore(e, second));
      const api = new JobApi(stack.apiUrl);
      // The status shows the window: from the job's oldest snapshot to the newest stored position.
      const status = await api.call<
        JobStatus & { restorableWindow: { from: { opTime: string }; to: { opTime: string } } | null }
      >('GET', `/api/v1/jobs/${jobId}/status`);
      assert.equal(status.restorableWindow?.from.opTime, opText(first));
      const [toT = 0, toI = 0] = (status.restorableWindow?.to.opTime ?? '0:0').split(':').map(Number);
      const newestEntry = oplog[oplog.length - 1]!;
      assert.ok(
        toT > newestEntry.t || (toT === newestEntry.t && toI >= newestEntry.i),
        `the window ends at ${toT}:${toI}, before the newest entry ${opText(newestEntry)}`,
      );
      const points: Array<{ name: string; at: { t: number; i: number } }> = [
        { name: 'at the first snapshot', at: first },
        ...(between.length > 0 ? [{ name: 'right after the first snapshot', at: between[0]! }] : []),
        ...(between.length > 2
          ? [{ name: 'between the snapshots', at: between[Math.floor(between.length / 2)]! }]
          : []),
        { name: 'at the second snapshot', at: second },
        { name: 'the newest entry', at: oplog[oplog.length - 1]! },
      ];
      const newest = oplog[oplog.length - 1]!;
      // The control: the newest state differs from the second snapshot's, so equal-to-the-point discriminates.
      assert.notDeepEqual(
        namespaces.flatMap((ns) =>
          differences(
            stateAt(initial.get(ns)!, oplog, ns, second),
            stateAt(initial.get(ns)!, oplog, ns, newest),
          ),
        ),
        [],
        'the writer changed nothing after the second snapshot',
      );
      await Promise.all(
        points.map(async (point) => {
          const into = restoreDb();
          const r = await cli(
            'restore',
            '--job',
            jobId,
            '--at',
            opText(point.at),
            '--to',
            target,
            '--rename',
            `${db}=${into}`,
            '--json',
          );
          assert.equal(r.code, 0, `${point.name}: ${r.stderr}`);
          const out = JSON.parse(r.stdout) as { at: { opTime: string }; entries: number };
          await assertRestored(into, point.at, `--at ${opText(point.at)} (${point.name})`);
          console.log(
            `--at ${opText(point.at)} (${point.name}): equal, ${out.entries} entries replayed, at ${out.at.opTime}`,
          );
        }),
      );
      // An ISO instant: the state of the last entry at or before it (wall times, else the timestamps' seconds).
      const middle = oplog[Math.floor((oplog.length + oplog.findIndex((e) => !atOrBefore(e, first))) / 2)]!;
      const instant = new Date((middle.wall?.getTime() ?? middle.t * 1000) + 1);
      const lastBefore = [...oplog]
        .reverse()
        .find((e) => (e.wall?.getTime() ?? e.t * 1000) <= instant.getTime())!;
      {
        const into = restoreDb();
        const r = await cli(
          'restore',
          '--job',
          jobId,
          '--at',
          instant.toISOString(),
          '--to',
          target,
          '--rename',
          `${db}=${into}`,
          '--json',
        );
        assert.equal(r.code, 0, `--at ${instant.toISOString()}: ${r.stderr}`);
        await assertRestored(into, lastBefore, `--at ${instant.toISOString()}`);
        console.log(`--at ${instant.toISOString()}: equal to the state at ${opText(lastBefore)}`);
      }

      // Refusals write nothing: before the window, in the future, malformed; and a non-empty target without --drop.
      const before = oplog.find((e) => atOrBefore(e, first) && !(e.t === first.t && e.i === first.i));
      const refused = [
        ...(before === undefined
          ? []
          : [{ at: opText(before), says: /before the oldest retained snapshot/ }]),
        { at: new Date(Date.now() + 3_600_000).toISOString(), says: /in the future/ },
        { at: 'yesterday', says: /expected an ISO 8601 instant/ },
      ];
      await Promise.all(
        refused.map(async ({ at, says }) => {
          const into = restoreDb();
          const r = await cli(
            'restore',
            '--job',
            jobId,
            '--at',
            at,
            '--to',
            target,
            '--rename',
            `${db}=${into}`,
          );
          assert.equal(r.code, 1, `--at ${at}: ${r.stdout}`);
          assert.match(r.stderr, says);
          const { databases } = await backup.db('admin').admin().listDatabases({ nameOnly: true });
          assert.ok(!databases.some((d) => d.name === into), `--at ${at} wrote ${into}`);
        }),
      );
      const full = restoreDbs[0]!;
      const restoreFirstInto = (into: string, ...more: string[]) =>
        cli(
          'restore',
          '--snapshot',
          taken[0]!.snapshotId,
          '--to',
          target,
          '--rename',
          `${db}=${into}`,
          ...more,
        );
      const again = await restoreFirstInto(full);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already holds documents.*nothing was written.*--drop/s);
      const dropped = await restoreFirstInto(full, '--drop');
      assert.equal(dropped.code, 0, dropped.stderr);
      await assertRestored(full, taken[0]!.at!, 'restored again with --drop');
      // The job's own source is refused without --to-source.
      const own = await cli('restore', '--snapshot', taken[0]!.snapshotId, '--to', source.uri);
      assert.equal(own.code, 1);
      assert.match(own.stderr, /--to-source/);
    } finally {
      for (const name of restoreDbs)
        await backup
          .db(name)
          .dropDatabase()
          .catch(() => undefined);
    }
  });
});
