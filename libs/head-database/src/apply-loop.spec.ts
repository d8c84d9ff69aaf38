// Wires the real oplog applier and in-memory target of @tidemark/oplog (see spec-support.ts); oplog entries come
// from @tidemark/testing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON, EJSON, Int32 } from 'bson';
import { SliceChecksumError, TidemarkError, compareOpTime, isRetriable, type OpTime } from '@tidemark/domain';
import { idKey } from '@tidemark/oplog-apply';
import { ApplyTurnError } from './apply-loop';
import { command, diffUpdate, ferretUpdate, insert, remove, ts, txnPart } from '@tidemark/testing';
import { HEAD_ORDERS, JOB, ORDERS, SYNC, harness, oplogSlice } from './spec-support';

const canonical = (value: unknown) => EJSON.stringify(value, { relaxed: false });
const docs = (h: ReturnType<typeof harness>, ns = HEAD_ORDERS) => canonical(h.target.documents(ns));
const positions = (h: ReturnType<typeof harness>) =>
  h.events.flatMap((e) => (e.kind === 'position' ? [e.ts] : []));

function assertIncreasing(list: readonly OpTime[], what: string): void {
  for (let k = 1; k < list.length; k++) {
    assert.ok(
      compareOpTime(list[k - 1]!, list[k]!) < 0,
      `${what} must strictly increase: ${JSON.stringify(list)}`,
    );
  }
}

describe('ApplyLoop: applying stored oplog slices to the head', () => {
  it('chains across slices (i, FerretDB whole-document $set, d) and stores the last lastTs', async () => {
    const h = harness();
    await h.catalog(ts(100, 0), ts(200, 0));
    await h.put(
      oplogSlice(ts(100, 0), ts(110, 0), [
        insert(ts(101, 1), ORDERS, { _id: 1, a: 1 }),
        insert(ts(102, 1), ORDERS, { _id: 2, a: 2 }),
      ]),
    );
    await h.put(oplogSlice(ts(110, 0), ts(120, 5), [ferretUpdate(ts(111, 1), ORDERS, { _id: 1, b: 'x' })]));
    await h.put(
      oplogSlice(ts(120, 5), ts(130, 0), [
        remove(ts(125, 1), ORDERS, 2),
        insert(ts(129, 9), ORDERS, { _id: 3, c: new Int32(3) }),
      ]),
    );
    // A slice whose range holds none of the job's entries still advances the chain.
    await h.put(oplogSlice(ts(130, 0), ts(140, 0), []));

    const turn = await h.loop.applyPending(h.job());
    assert.equal(turn.stop, 'caught-up');
    assert.equal(turn.slices, 4);
    assert.equal(turn.entries, 5);
    assert.deepEqual(turn.from, ts(100, 0));
    assert.deepEqual(turn.appliedTs, ts(140, 0));
    assert.deepEqual((await h.registry.get(JOB, SYNC))?.appliedTs, ts(140, 0));
    assert.equal(
      docs(h),
      canonical([
        { _id: 1, b: 'x' },
        { _id: 3, c: new Int32(3) },
      ]),
    );
    assert.deepEqual(positions(h), [ts(110, 0), ts(120, 5), ts(130, 0), ts(140, 0)]);
  });

  it('applies each entry once across overlapping duplicate ranges from an agent restart', async () => {
    const h = harness({ maxSlicesPerTurn: 1 });
    await h.catalog(ts(100, 0), ts(200, 0));
    const e = (t: number) => insert(ts(t, 1), ORDERS, { _id: t, at: t });
    // The first agent run cut (100,110] and (110,120]; after a restart it re-read from 105: (105,115], (115,130].
    await h.put(oplogSlice(ts(100, 0), ts(110, 0), [e(101), e(108)]));
    await h.put(oplogSlice(ts(110, 0), ts(120, 0), [e(112), e(118)]));
    await h.put(oplogSlice(ts(105, 0), ts(115, 0), [e(108), e(112)], ':r'));
    await h.put(oplogSlice(ts(115, 0), ts(130, 0), [e(118), e(125)], ':r'));
    let turn;
    do turn = await h.loop.applyPending(h.job());
    while (turn.morePending);
    assert.deepEqual(h.applied, [ts(101, 1), ts(108, 1), ts(112, 1), ts(118, 1), ts(125, 1)]);
    assert.deepEqual((await h.registry.get(JOB, SYNC))?.appliedTs, ts(130, 0));
    assert.equal(h.target.documents(HEAD_ORDERS).length, 5);
    assertIncreasing(positions(h), 'stored positions');
  });

  it('never moves the position back: a redelivery of applied slices changes nothing', async () => {
    const h = harness();
    await h.catalog(ts(100, 0), ts(200, 0));
    await h.put(oplogSlice(ts(100, 0), ts(110, 0), [insert(ts(101, 1), ORDERS, { _id: 1, v: 1 })]));
    await h.put(oplogSlice(ts(110, 0), ts(120, 0), [ferretUpdate(ts(115, 1), ORDERS, { _id: 1, v: 2 })]));
    await h.loop.applyPending(h.job());
    const before = docs(h);
    // Restarted agent stored the same ranges again under other ids; another applier replays them too.
    await h.put(oplogSlice(ts(100, 0), ts(110, 0), [insert(ts(101, 1), ORDERS, { _id: 1, v: 1 })], ':again'));
    await h.put(oplogSlice(ts(100, 0), ts(120, 0), [insert(ts(101, 1), ORDERS, { _id: 1, v: 1 })], ':wide'));
    const turn = await h.loop.applyPending(h.job());
    assert.equal(turn.entries, 0);
    assert.equal(turn.stop, 'caught-up');
    assert.equal(docs(h), before);
    assert.deepEqual((await h.registry.get(JOB, SYNC))?.appliedTs, ts(120, 0));
    // The registry refuses to move back, whoever asks.
    assert.deepEqual(await h.registry.setAppliedTs(JOB, SYNC, ts(105, 0)), ts(120, 0));
    assertIncreasing(positions(h).slice(0, -1), 'positions the loop stored');
  });

  it('stops and waits at a gap in the store, then continues once the range is stored', async () => {
    const h = harness();
    await h.catalog(ts(100, 0), ts(200, 0));
    await h.put(oplogSlice(ts(100, 0), ts(110, 0), [insert(ts(105, 1), ORDERS, { _id: 1 })]));
    await h.put(oplogSlice(ts(120, 0), ts(130, 0), [insert(ts(125, 1), ORDERS, { _id: 3 })]));
    const first = await h.loop.applyPending(h.job());
    assert.equal(first.stop, 'gap');
    assert.deepEqual(first.appliedTs, ts(110, 0));
    assert.equal(h.target.documents(HEAD_ORDERS).length, 1, 'nothing after the gap is applied');
    const again = await h.loop.applyPending(h.job());
    assert.equal(again.stop, 'gap');
    assert.equal(again.slices, 0);
    await h.put(oplogSlice(ts(110, 0), ts(120, 0), [insert(ts(115, 1), ORDERS, { _id: 2 })]));
    const last = await h.loop.applyPending(h.job());
    assert.equal(last.stop, 'caught-up');
    assert.deepEqual(last.appliedTs, ts(130, 0));
    assert.deepEqual(h.applied, [ts(105, 1), ts(115, 1), ts(125, 1)]);
  });

  it('does nothing before the head record exists', async () => {
    const h = harness();
    await h.put(oplogSlice(ts(100, 0), ts(110, 0), [insert(ts(105, 1), ORDERS, { _id: 1 })]));
    const turn = await h.loop.applyPending(h.job());
    assert.equal(turn.stop, 'no-head');
    assert.deepEqual(h.applied, []);
  });

  it('caps the slices of one turn (TIDEMARK_APPLY_MAX_SLICES_PER_TURN) so jobs interleave', async () => {
    const h = harness({ maxSlicesPerTurn: 2 });
    await h.catalog(ts(100, 0), ts(200, 0));
    for (let k = 0; k < 5; k++) {
      await h.put(
        oplogSlice(ts(100 + k * 10, 0), ts(110 + k * 10, 0), [
          insert(ts(105 + k * 10, 1), ORDERS, { _id: k }),
        ]),
      );
    }
    const turns = [];
    for (let k = 0; k < 3; k++) turns.push(await h.loop.applyPending(h.job()));
    assert.deepEqual(
      turns.map((t) => [t.slices, t.stop, t.morePending]),
      [
        [2, 'turn-cap', true],
        [2, 'turn-cap', true],
        [1, 'caught-up', false],
      ],
    );
    assert.deepEqual(turns[2]?.appliedTs, ts(150, 0));
  });

  it('stores the position right after a command entry, inside a slice', async () => {
    const h = harness();
    await h.catalog(ts(100, 0), ts(200, 0));
    await h.put(
      oplogSlice(ts(100, 0), ts(110, 0), [
        insert(ts(101, 1), ORDERS, { _id: 1 }),
        command(ts(102, 1), 'shop', { create: 'audit' }),
        insert(ts(103, 1), 'shop.audit', { _id: 'x' }),
      ]),
    );
    await h.loop.applyPending(h.job());
    assert.deepEqual(positions(h), [ts(102, 1), ts(110, 0)]);
    assert.deepEqual(h.target.namespaces('th_job1_1_shop'), ['th_job1_1_shop.audit', HEAD_ORDERS]);
  });

  it('keeps a transaction across the cap and never stores a position inside an open transaction', async () => {
    let failCommitOnce = true;
    const h = harness({
      maxSlicesPerTurn: 1,
      wrapApplier: (applier) => ({
        ...applier,
        applyEntry: async (doc) => {
          const o = (doc as { o: { applyOps?: unknown; partialTxn?: unknown } }).o;
          if (failCommitOnce && o.applyOps !== undefined && o.partialTxn === undefined) {
            failCommitOnce = false;
            throw new TidemarkError('primary stepped down', { retriable: true });
          }
          return applier.applyEntry(doc);
        },
      }),
    });
    await h.catalog(ts(100, 0), ts(200, 0));
    const op = (id: number) => ({ op: 'i', ns: ORDERS, o: { _id: id } });
    await h.put(oplogSlice(ts(100, 0), ts(110, 0), [insert(ts(101, 1), ORDERS, { _id: 0 })]));
    await h.put(
      oplogSlice(ts(110, 0), ts(120, 0), [
        txnPart(ts(115, 3), undefined, [op(1)], false),
        insert(ts(116, 1), ORDERS, { _id: 9 }),
      ]),
    );
    await h.put(oplogSlice(ts(120, 0), ts(130, 0), [txnPart(ts(125, 1), ts(115, 3), [op(2)], true)]));

    assert.equal((await h.loop.applyPending(h.job())).slices, 1);
    // Second turn: the transaction opens in slice 2; the cap waits for it; its commit fails (retriable).
    const failed = await h.loop.applyPending(h.job()).then(
      () => assert.fail('the commit fails'),
      (err: unknown) => err,
    );
    assert.ok(failed instanceof ApplyTurnError);
    assert.equal(isRetriable(failed), true);
    const held = (await h.registry.get(JOB, SYNC))?.appliedTs;
    assert.deepEqual(held, ts(115, 2), 'the position stops just before the open transaction');
    assert.deepEqual(failed.appliedTs, ts(115, 2));
    // Next turn rebuilds the transaction from its first entry and commits it.
    const turn = await h.loop.applyPending(h.job());
    assert.equal(turn.slices, 2, 'slice 2 again (from its transaction) and slice 3: past the cap of 1');
    assert.deepEqual(turn.appliedTs, ts(130, 0));
    assert.deepEqual(
      h.target
        .documents(HEAD_ORDERS)
        .map((d) => Number(d['_id']))
        .sort(),
      [0, 1, 2, 9],
    );
  });

  it('refuses a slice whose payload does not match its checksum, leaving the position', async () => {
    const h = harness();
    await h.catalog(ts(100, 0), ts(200, 0));
    const slice = oplogSlice(ts(100, 0), ts(110, 0), [insert(ts(101, 1), ORDERS, { _id: 1 })]);
    await h.put({ meta: { ...slice.meta, checksum: '0'.repeat(64) }, payload: slice.payload });
    const err = await h.loop.applyPending(h.job()).then(
      () => assert.fail('must fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplyTurnError && err.cause instanceof SliceChecksumError);
    assert.equal(isRetriable(err), false);
    assert.deepEqual((await h.registry.get(JOB, SYNC))?.appliedTs, ts(100, 0));
    assert.deepEqual(h.applied, []);
  });
});

describe('ApplyLoop: missing documents', () => {
  it('records missing documents before the position that covers them, then requests them at endTs', async () => {
    const h = harness();
    await h.catalog(ts(100, 0), ts(120, 0));
    await h.put(
      oplogSlice(ts(100, 0), ts(110, 0), [
        insert(ts(101, 1), ORDERS, { _id: 1, a: 1 }),
        diffUpdate(ts(102, 1), ORDERS, 7, { u: { a: 2 } }),
        diffUpdate(ts(103, 1), 'shop.items', 'k', { u: { a: 2 } }),
        diffUpdate(ts(104, 1), ORDERS, 1, { u: { a: 5 } }),
      ]),
    );
    await h.put(oplogSlice(ts(110, 0), ts(120, 0), [diffUpdate(ts(111, 1), ORDERS, 8, { u: { a: 2 } })]));
    await h.put(oplogSlice(ts(120, 0), ts(130, 0), [insert(ts(121, 1), ORDERS, { _id: 2 })]));

    const turn = await h.loop.applyPending(h.job());
    assert.deepEqual(turn.missingRequested, { documents: 3, batches: 2 });
    assert.equal(turn.missingRecorded, 3);
    // Each stored position came after the missing documents it covers were stored.
    const stored = h.events.flatMap((e) => (e.kind === 'position' ? [[e.ts, e.missingStored]] : []));
    assert.deepEqual(stored, [
      [ts(110, 0), 2],
      [ts(120, 0), 3],
      [ts(130, 0), 3],
    ]);
    assert.deepEqual(
      h.missing
        .list(JOB, SYNC)
        .map((r) => [r.sourceNs, r.id, r.targetNs])
        .sort(),
      [
        ['shop.items', '"k"', 'th_job1_1_shop.items'],
        [ORDERS, '{"$numberInt":"7"}', HEAD_ORDERS],
        [ORDERS, '{"$numberInt":"8"}', HEAD_ORDERS],
      ],
    );
    // Order: the phase report, the commands, then the mark (report before mark), at the position reaching endTs.
    const kinds = h.events.filter((e) => e.kind !== 'position').map((e) => e.kind);
    assert.deepEqual(kinds.slice(0, 4), ['report', 'command', 'command', 'mark']);
    const [report] = h.reports();
    assert.equal(report?.phase, 'fetching-missing-documents');
    assert.deepEqual(report?.appliedTs, ts(120, 0));
    assert.deepEqual(report?.details, { missingDocuments: '3', batches: '2', endTs: '120.0' });
    assert.deepEqual(
      h.commands().map((c) => ({ ...c })),
      [
        {
          commandId: `${SYNC}:fetch-missing:1/2`,
          jobId: JOB,
          syncId: SYNC,
          batch: 1,
          batches: 2,
          ns: 'shop.items',
          ids: '["k"]',
        },
        {
          commandId: `${SYNC}:fetch-missing:2/2`,
          jobId: JOB,
          syncId: SYNC,
          batch: 2,
          batches: 2,
          ns: ORDERS,
          ids: '[{"$numberInt":"7"},{"$numberInt":"8"}]',
        },
      ],
    );
    assert.deepEqual(EJSON.parse(h.commands()[1]!.ids, { relaxed: false }), [new Int32(7), new Int32(8)]);
    assert.ok((await h.registry.get(JOB, SYNC))?.missingRequestedAt instanceof Date);

    // Requested once: later turns do not repeat it.
    await h.put(oplogSlice(ts(130, 0), ts(140, 0), [insert(ts(131, 1), ORDERS, { _id: 3 })]));
    const later = await h.loop.applyPending(h.job());
    assert.equal(later.missingRequested, undefined);
    assert.equal(h.commands().length, 2);
  });

  it('sends one command with batches=0 when nothing is missing', async () => {
    const h = harness();
    await h.catalog(ts(100, 0), ts(110, 0));
    await h.put(oplogSlice(ts(100, 0), ts(110, 0), [insert(ts(101, 1), ORDERS, { _id: 1 })]));
    const turn = await h.loop.applyPending(h.job());
    assert.deepEqual(turn.missingRequested, { documents: 0, batches: 0 });
    assert.deepEqual(h.commands(), [
      {
        commandId: `${SYNC}:fetch-missing:0/0`,
        jobId: JOB,
        syncId: SYNC,
        batch: 0,
        batches: 0,
        ns: '',
        ids: '[]',
      },
    ]);
    assert.deepEqual(h.reports()[0]?.details?.['missingDocuments'], '0');
  });

  it('requests at once when the position already is at endTs (no oplog slice needed)', async () => {
    const h = harness();
    await h.catalog(ts(100, 0), ts(100, 0));
    const turn = await h.loop.applyPending(h.job());
    assert.equal(turn.stop, 'caught-up');
    assert.deepEqual(turn.missingRequested, { documents: 0, batches: 0 });
  });

  it('repeats the request after a crash between the report and the mark (job-state already shows the phase)', async () => {
    const h = harness();
    await h.catalog(ts(100, 0), ts(100, 0));
    await h.loop.applyPending(h.job('fetching-missing-documents'));
    assert.equal(h.commands().length, 1);
    const none = harness();
    await none.catalog(ts(100, 0), ts(100, 0));
    await none.loop.applyPending(none.job('complete'));
    assert.equal(none.commands().length, 0, 'a complete sync requests nothing');
  });

  it('batches ids per namespace, at most 1000 per command, numbered 1..N', async () => {
    const h = harness();
    await h.catalog(ts(100, 0), ts(100, 0));
    const many = Array.from({ length: 2500 }, (_, k) => ({
      sourceNs: 'shop.a',
      targetNs: 'th_job1_1_shop.a',
      id: EJSON.stringify(new Int32(k), { relaxed: false }),
      ts: ts(100, 0),
    }));
    await h.missing.record(JOB, SYNC, [
      ...many,
      { ...many[0]!, sourceNs: 'shop.b', targetNs: 'th_job1_1_shop.b' },
    ]);
    const turn = await h.loop.applyPending(h.job());
    assert.deepEqual(turn.missingRequested, { documents: 2501, batches: 4 });
    const sent = h.commands();
    assert.deepEqual(
      sent.map((c) => [c.batch, c.batches, c.ns, (JSON.parse(c.ids) as unknown[]).length]),
      [
        [1, 4, 'shop.a', 1000],
        [2, 4, 'shop.a', 1000],
        [3, 4, 'shop.a', 500],
        [4, 4, 'shop.b', 1],
      ],
    );
    const all = sent.slice(0, 3).flatMap((c) => EJSON.parse(c.ids, { relaxed: false }) as Int32[]);
    assert.equal(new Set(all.map((v) => idKey(v))).size, 2500, 'every id once');
  });
});

describe('ApplyLoop: progress reports', () => {
  it('reports the applied position after a turn that advanced, at most once per second per job', async () => {
    let now = 10_000;
    const h = harness({ clock: () => now, maxSlicesPerTurn: 1 });
    await h.catalog(ts(100, 0), ts(500, 0));
    for (let k = 0; k < 3; k++) {
      await h.put(
        oplogSlice(ts(100 + k * 10, 0), ts(110 + k * 10, 0), [
          insert(ts(105 + k * 10, 1), ORDERS, { _id: k }),
        ]),
      );
    }
    await h.loop.applyPending(h.job());
    now += 200;
    await h.loop.applyPending(h.job());
    assert.deepEqual(
      h.reports().map((r) => [r.phase, r.appliedTs, r.sourceTs]),
      [['applying-oplogs', ts(110, 0), ts(130, 0)]],
    );
    now += 900;
    await h.loop.applyPending(h.job()); // advanced, and the throttled report of the second turn is owed
    now += 100;
    await h.loop.applyPending(h.job()); // nothing new
    now += 2000;
    await h.loop.applyPending(h.job());
    assert.deepEqual(
      h.reports().map((r) => r.appliedTs),
      [ts(110, 0), ts(130, 0)],
    );
  });
});

describe('openSliceEntries via the loop: entries are checked', () => {
  it('refuses an entry that would not be written back byte for byte (deprecated undefined type)', async () => {
    const h = harness();
    await h.catalog(ts(100, 0), ts(200, 0));
    const raw = Buffer.from(
      BSON.serialize({ ts: BSON.Timestamp.fromBits(1, 101), op: 'i', ns: ORDERS, o: { _id: 1, x: null } }),
    );
    // Turn the null (0x0A) of "x" into undefined (0x06): the driver would write it back as null.
    const at = raw.indexOf(Buffer.from([0x0a, 0x78, 0x00]));
    raw[at] = 0x06;
    await h.put(oplogSlice(ts(100, 0), ts(110, 0), [raw]));
    const err = await h.loop.applyPending(h.job()).then(
      () => assert.fail('must fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplyTurnError);
    assert.equal((err.cause as Error).name, 'EntryFidelityError');
    assert.equal(isRetriable(err), false);
  });

  it('refuses a slice whose entries are out of order or outside its range', async () => {
    const h = harness();
    await h.catalog(ts(100, 0), ts(200, 0));
    await h.put(
      oplogSlice(ts(100, 0), ts(110, 0), [
        insert(ts(105, 1), ORDERS, { _id: 1 }),
        insert(ts(104, 1), ORDERS, { _id: 2 }),
      ]),
    );
    const err = await h.loop.applyPending(h.job()).then(
      () => assert.fail('must fail'),
      (e: unknown) => e,
    );
    assert.match(String((err as Error).message), /not after/);
    assert.deepEqual(h.applied, []);
  });
});
