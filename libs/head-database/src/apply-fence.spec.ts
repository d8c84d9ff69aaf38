import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '@tidemark/util';
import { ApplyFenceHolder } from './apply-fence';
import { applyLeaseName } from './apply-scheduler';
import { MemoryFenceStore } from './memory-fence-store';
import { MemoryLeaseStore } from './memory-lease-store';

const fast = new Backoff({ initialMs: 5, maxMs: 20, jitter: 'equal' });

function setup() {
  const leases = new MemoryLeaseStore();
  const fences = new MemoryFenceStore();
  return { leases, fences, holder: new ApplyFenceHolder({ leases, fences }, { wait: fast }) };
}

describe('ApplyFenceHolder', () => {
  it('holds at once when nobody applies the job: the request stands and the apply lease is the owner’s', async () => {
    const s = setup();
    const grant = await s.holder.hold('a', 'snap-1', 10_000, 1_000);
    assert.deepEqual([grant?.jobId, grant?.owner], ['a', 'snap-1']);
    assert.equal(s.leases.holder(applyLeaseName('a')), 'snap-1');
    assert.equal((await s.fences.current('a'))?.owner, 'snap-1');
  });

  it('waits until the applier lets go of the lease, then holds', async () => {
    const s = setup();
    assert.ok(await s.leases.acquire(applyLeaseName('a'), 'applier', 10_000));
    const holding = s.holder.hold('a', 'snap-1', 10_000, 5_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await s.fences.current('a'))?.owner, 'snap-1', 'the request is written first');
    await s.leases.release(applyLeaseName('a'), 'applier'); // the scheduler yields after its turn
    const grant = await holding;
    assert.equal(grant?.owner, 'snap-1');
    assert.equal(s.leases.holder(applyLeaseName('a')), 'snap-1');
  });

  it('gives up after waitMs when the lease stays held, withdrawing its request', async () => {
    const s = setup();
    assert.ok(await s.leases.acquire(applyLeaseName('a'), 'applier', 10_000));
    assert.equal(await s.holder.hold('a', 'snap-1', 10_000, 100), undefined);
    assert.equal(await s.fences.current('a'), undefined);
    assert.equal(s.leases.holder(applyLeaseName('a')), 'applier');
  });

  it('two holders exclude each other; the second holds once the first released', async () => {
    const s = setup();
    assert.ok(await s.holder.hold('a', 'snap-1', 10_000, 1_000));
    assert.equal(await s.holder.hold('a', 'snap-2', 10_000, 100), undefined);
    assert.equal((await s.fences.current('a'))?.owner, 'snap-1', 'the first request is untouched');
    await s.holder.release('a', 'snap-1');
    assert.equal(s.leases.holder(applyLeaseName('a')), undefined);
    assert.equal(await s.fences.current('a'), undefined);
    assert.equal((await s.holder.hold('a', 'snap-2', 10_000, 1_000))?.owner, 'snap-2');
  });

  it('renews both; a renewal after either was lost answers undefined and gives up the rest', async () => {
    const s = setup();
    const first = await s.holder.hold('a', 'snap-1', 1_000, 1_000);
    const renewed = await s.holder.renew('a', 'snap-1', 60_000);
    assert.ok((renewed?.expiresAt.getTime() ?? 0) > (first?.expiresAt.getTime() ?? Infinity));
    await s.fences.withdraw('a', 'snap-1'); // e.g. it expired and was replaced
    assert.equal(await s.holder.renew('a', 'snap-1', 60_000), undefined);
    assert.equal(s.leases.holder(applyLeaseName('a')), undefined, 'the lease is given up too');
  });

  it('leaves nothing standing when a store fails mid-hold', async () => {
    const s = setup();
    s.leases.acquire = async () => {
      throw new Error('meta database unreachable');
    };
    await assert.rejects(s.holder.hold('a', 'snap-1', 10_000, 1_000), /unreachable/);
    assert.equal(await s.fences.current('a'), undefined);
  });
});
