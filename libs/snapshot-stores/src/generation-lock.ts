/**
 * The job's snapshot lock as a sequence of generations, each written once and never changed: the one lock algorithm
 * of the `filesystem` store (a file per generation) and the MongoDB-backed stores (a document per generation).
 *
 * The highest generation is the lock's state: a holder and an expiry, or free. Every change (acquire, take over an
 * expired lock, renew, release) reads the state at generation g and then *creates* generation g + 1, which fails
 * when g + 1 exists (`link(2)` EEXIST, a duplicate `_id`): a compare-and-swap on "the state is still g", built on the
 * one write every backend makes atomic, creating a name that must not exist. Of two callers that both read an
 * expired g, exactly one creates g + 1; the other reads again and finds the lock held. (Updating one document in
 * place with a filter on its expiry is not enough: FerretDB's `findAndModify` evaluates the filter and writes in two
 * steps, and two callers both took an expired lock in this suite's race.)
 *
 * Old generations are pruned (all but the two highest). A very slow caller that read a generation long gone could
 * then create a number that was pruned; so a created generation counts only if it is still the highest when read
 * after the create. A pruned number is always below the highest (pruning happens only after a higher one exists),
 * so such a stale write never counts. A legitimate successor (the same owner's concurrent call, or a takeover after
 * the TTL ran out) can also make the check fail; the check then errs towards "not granted", never towards two
 * holders.
 */
import type { StoreLockGrant } from '@tidemark/snapshots';
import { SnapshotStoreUnavailableError } from './store-errors';
import { checkOwner, checkTtl } from './store-keys';

/** The lock's state at one generation. */
export interface LockGeneration {
  /** 0 when the lock has never been taken (or was deleted with its job). */
  readonly generation: number;
  /** The holder; undefined when free. */
  readonly owner: string | undefined;
  /** Epoch ms; meaningless when free. */
  readonly expiresAt: number;
}

/** What a backend provides: reading the highest generation, creating one exclusively, pruning. */
export interface LockGenerations {
  /** Where the lock lives, for errors. */
  readonly location: string;
  /** The highest generation's state (version-checked), or generation 0. */
  current(): Promise<LockGeneration>;
  /** The highest generation's number (0 when none). */
  highest(): Promise<number>;
  /** Creates `generation` with its state; false when it exists already. */
  create(state: LockGeneration): Promise<boolean>;
  /** Removes every generation below `generation`. */
  pruneBelow(generation: number): Promise<void>;
}

/** How often a call starts over after losing a race before it gives up (retriable). */
const ROUNDS = 50;

async function swap(gens: LockGenerations, next: LockGeneration): Promise<boolean> {
  if (!(await gens.create(next))) return false;
  if ((await gens.highest()) !== next.generation) return false;
  await gens.pruneBelow(next.generation - 1);
  return true;
}

function contended(operation: string, gens: LockGenerations): SnapshotStoreUnavailableError {
  return new SnapshotStoreUnavailableError(
    operation,
    gens.location,
    `lost the lock race ${ROUNDS} times in a row`,
    {
      retriable: true,
    },
  );
}

/**
 * The one compare-and-swap loop of every lock change: reads the state, asks `next` for the state to create (undefined:
 * no change, the call is answered as it stands), creates it as the next generation; starts over when another caller
 * created that generation first. Returns the generation created, or undefined.
 */
async function change(
  gens: LockGenerations,
  operation: string,
  next: (state: LockGeneration) => Omit<LockGeneration, 'generation'> | undefined,
): Promise<LockGeneration | undefined> {
  for (let round = 0; round < ROUNDS; round++) {
    const state = await gens.current();
    const wanted = next(state);
    if (wanted === undefined) return undefined;
    const created: LockGeneration = { generation: state.generation + 1, ...wanted };
    if (await swap(gens, created)) return created;
  }
  throw contended(operation, gens);
}

function grant(jobId: string, held: LockGeneration | undefined): StoreLockGrant | undefined {
  return held?.owner === undefined
    ? undefined
    : { jobId, owner: held.owner, expiresAt: new Date(held.expiresAt) };
}

/** `SnapshotStore.acquireLock` over `gens`. */
export async function acquireLock(
  gens: LockGenerations,
  jobId: string,
  owner: string,
  ttlMs: number,
  clock: () => number,
): Promise<StoreLockGrant | undefined> {
  checkOwner(owner);
  checkTtl(ttlMs);
  const held = await change(gens, 'acquireLock', (state) => {
    const now = clock();
    if (state.owner !== undefined && state.owner !== owner && state.expiresAt > now) return undefined;
    return { owner, expiresAt: now + ttlMs };
  });
  return grant(jobId, held);
}

/** `SnapshotStore.renewLock`: extends the lock while `owner` is still its holder (even past its expiry, when nobody took it). */
export async function renewLock(
  gens: LockGenerations,
  jobId: string,
  owner: string,
  ttlMs: number,
  clock: () => number,
): Promise<StoreLockGrant | undefined> {
  checkOwner(owner);
  checkTtl(ttlMs);
  const held = await change(gens, 'renewLock', (state) =>
    state.owner === owner ? { owner, expiresAt: clock() + ttlMs } : undefined,
  );
  return grant(jobId, held);
}

/** `SnapshotStore.releaseLock`: frees the lock when `owner` holds it; otherwise nothing changes. */
export async function releaseLock(gens: LockGenerations, owner: string): Promise<void> {
  checkOwner(owner);
  await change(gens, 'releaseLock', (state) =>
    state.owner === owner ? { owner: undefined, expiresAt: 0 } : undefined,
  );
}
