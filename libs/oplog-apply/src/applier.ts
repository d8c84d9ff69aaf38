/**
 * The oplog applier: one implementation of MongoDB's oplog apply semantics, used by the head database's
 * oplog-applier and by point-in-time restore, writing through an {@link ApplyTarget}.
 *
 * `applyEntry` handles one entry in a fixed order, as mongo-tools' `HandleOp` does:
 * 1. **namespaces**: skip entries on `admin`, `config`, `local` and `system.*` namespaces and on namespaces
 *    `mapNamespace` maps to null (commands are judged by the namespaces they act on, e.g. both sides of a rename);
 *    a view or time-series collection the job maps (a write to `system.views`, a `create` with `viewOn` or
 *    `timeseries` or of `system.buckets.*`) is refused with `UnsupportedNamespaceError`: Tidemark backs up neither;
 * 2. **op types**: skip `n` no-ops and the other ignored op types (`IGNORED_OP_TYPES`);
 * 3. **ignored commands**: skip the commands the table ignores (`startIndexBuild`, `abortIndexBuild`, ...);
 * 4. **until**: stop at the exclusive `until` bound (nothing at or after it is applied);
 * 5. **dispatch**: `i`, `u`, `d`, `c`; `applyOps` applies its nested ops one by one (each through steps 1-3 and 5);
 *    transaction parts are buffered until their commit; an unknown command throws `UnknownOplogCommandError`.
 *
 * An update whose document is missing in the target is recorded as a *missing document* (`missingDocuments()`),
 * for the agent to fetch from the source; it does not fail. Every error leaves as `UnknownOplogCommandError` or as
 * an {@link OplogApplyError} saying what was being done (timestamp, op, namespace, nested position), retriable
 * exactly when its cause is. Entries must be applied one at a time, in oplog order: a call while another is
 * running is refused.
 */
import type { Document, Timestamp } from 'bson';
import {
  EXCLUDED_DATABASES,
  MIN_OP_TIME,
  SYSTEM_COLLECTION_PREFIX,
  TIMESERIES_BUCKETS_PREFIX,
  TidemarkError,
  UnknownOplogCommandError,
  UnsupportedNamespaceError,
  VIEWS_COLLECTION,
  compareOpTime,
  formatOpTime,
  parseNamespace,
} from '@tidemark/domain';
import type { OpTime } from '@tidemark/domain';
import type { ApplyTarget, IndexSpec } from './apply-target';
import { isDocumentValue, isTimestamp, timestampToOpTime } from './bson-values';
import { applyOpsFlags, commandRule } from './commands';
import type { CommandRule, CommandScope, MappedScope } from './commands';
import { IGNORED_OP_TYPES, commandName, databaseOf, validateEntry, validateOperation } from './entry';
import type { OplogEntry, OplogOperation, OplogOpType } from './entry';
import { MalformedOplogEntryError, OplogApplyError, UnreplayableEntryError } from './errors';
import type { ApplyContext } from './errors';
import { idKey } from './id-key';
import { TransactionBuffer } from './transaction-buffer';
import type { OpenTransaction, TransactionBufferLimits } from './transaction-buffer';
import { applyV2Diff, diffToModifier } from './v2-diff';
import { classifyUpdate } from './v1-modifier';

/** How `$v:2` diffs are applied; see `v2-diff.ts` for what each form reproduces. */
export type UpdateStrategy = 'auto' | 'post-image' | 'modifier';

export interface OplogApplierOptions {
  /**
   * Maps a source namespace to the target's, or to null to leave it out. Called with `db.collection` for
   * collection-level operations and with `db` alone for database-level ones (`dropDatabase`), where it must return a
   * database name. `admin`, `config`, `local` and `system.*` are excluded before it is called. Default: identity.
   */
  readonly mapNamespace?: (sourceNs: string) => string | null;
  /** Exclusive bound for point-in-time restore: entries at or after it are not applied. */
  readonly until?: OpTime;
  /** Bounds of the buffer of uncommitted transaction operations. Default: 100 000 operations, 64 MiB. */
  readonly transactionBuffer?: Partial<TransactionBufferLimits>;
  /**
   * `post-image` reads the document and writes the diff's exact post-image (needs `readYourWrites`); `modifier`
   * translates the diff into `$set`/`$unset` updates; `auto` (default) picks `post-image` when the target can.
   */
  readonly updateStrategy?: UpdateStrategy;
  /** Most missing documents held until `takeMissingDocuments()` drains them. Default: 1 000 000. */
  readonly maxMissingDocuments?: number;
}

/** What happened to one entry. */
export type ApplyOutcome =
  /** The entry was applied (for `applyOps` and commits: each nested op was applied, skipped or recorded missing). */
  | 'applied'
  /** Its namespace is excluded (admin/config/local/system.* or unmapped). */
  | 'skipped-namespace'
  /** A no-op or another ignored op type. */
  | 'skipped-op'
  /** A command the table ignores, or that turned out to change nothing; `reason` says why. */
  | 'ignored-command'
  /** At or after `until`: not applied; nothing later will be. */
  | 'until-reached'
  /** Part of a transaction not committed yet: held until the commit. */
  | 'buffered'
  /** A transaction abort: its buffered operations were dropped. */
  | 'aborted'
  /** An update of a document the target does not have: recorded in `missingDocuments()`. */
  | 'missing-document';

/** Per-entry counters for metrics, summed over the ops nested in `applyOps` and commits. */
export interface ApplyCounts {
  inserted: number;
  updated: number;
  /** Replacement-style updates (written as an upsert of the whole document). */
  replaced: number;
  deleted: number;
  commands: number;
  missing: number;
  skipped: number;
}

/** A document an update could not find, for the agent to fetch from the source. */
export interface MissingDocument {
  /** The namespace on the source (where the agent fetches it). */
  readonly sourceNs: string;
  /** The namespace on the target (where the fetched document goes). */
  readonly targetNs: string;
  readonly id: unknown;
  /** The entry whose update found no document (the latest one, if several did). */
  readonly ts: OpTime;
}

export interface ApplyResult {
  readonly ts: OpTime;
  readonly op: OplogOpType;
  readonly ns: string;
  /** For `c` entries: the command name. */
  readonly command?: string;
  readonly outcome: ApplyOutcome;
  /** Why an entry was skipped, ignored or buffered. */
  readonly reason?: string;
  readonly counts: Readonly<ApplyCounts>;
  /** Missing documents this entry recorded. */
  readonly missing: readonly MissingDocument[];
}

/** MongoDB nests `applyOps` at most this deep in practice; deeper means a malformed or hostile entry. */
const MAX_APPLY_OPS_DEPTH = 10;
const DEFAULT_MAX_MISSING_DOCUMENTS = 1_000_000;

/** The result of step 1 (namespaces): what the op acts on in the target, or why it is skipped. */
type Resolution =
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'document'; readonly sourceNs: string; readonly targetNs: string }
  | { readonly kind: 'legacy-index'; readonly targetNs: string }
  | {
      readonly kind: 'command';
      readonly name: string;
      readonly rule: CommandRule | undefined;
      readonly scope: MappedScope | undefined;
    };

/** What an op that is not skipped acts on. */
type Target = Exclude<Resolution, { kind: 'skip' }>;

/** The result of steps 1-3. */
type Screened =
  | { readonly skip: { readonly outcome: ApplyOutcome; readonly reason: string } }
  | { readonly resolution: Target };

/** Running totals of one top-level entry. */
interface Tally {
  readonly counts: ApplyCounts;
  readonly missing: MissingDocument[];
}

/** One op being applied: the op, its entry's timestamp, and its position (for nested ops). */
interface Step {
  readonly operation: OplogOperation;
  readonly ts: OpTime;
  readonly path: string | undefined;
  readonly depth: number;
}

function emptyCounts(): ApplyCounts {
  return { inserted: 0, updated: 0, replaced: 0, deleted: 0, commands: 0, missing: 0, skipped: 0 };
}

function isEmptyPrevOpTime(entry: OplogEntry): boolean {
  const prev = entry.prevOpTime;
  return prev === undefined || (prev.ts.high === 0 && prev.ts.low === 0);
}

export class OplogApplier {
  private readonly target: ApplyTarget;
  private readonly mapNamespace: (sourceNs: string) => string | null;
  private readonly until: OpTime | undefined;
  private readonly strategy: 'post-image' | 'modifier';
  private readonly maxMissing: number;
  private readonly buffer: TransactionBuffer;
  private readonly missing = new Map<string, MissingDocument>();
  private busy = false;
  private reachedUntil = false;

  constructor(target: ApplyTarget, options: OplogApplierOptions = {}) {
    this.target = target;
    this.mapNamespace = options.mapNamespace ?? ((ns) => ns);
    this.until = options.until;
    this.buffer = new TransactionBuffer(options.transactionBuffer);
    this.maxMissing = options.maxMissingDocuments ?? DEFAULT_MAX_MISSING_DOCUMENTS;
    const canRead = target.capabilities.readYourWrites && typeof target.findById === 'function';
    const wanted = options.updateStrategy ?? 'auto';
    if (wanted === 'post-image' && !canRead) {
      throw new TidemarkError(
        'updateStrategy "post-image" needs a target with capabilities.readYourWrites and findById',
        { retriable: false },
      );
    }
    this.strategy = wanted === 'auto' ? (canRead ? 'post-image' : 'modifier') : wanted;
  }

  /** How `$v:2` diffs are being applied. */
  get updateStrategy(): 'post-image' | 'modifier' {
    return this.strategy;
  }

  /** True once an entry at or after `until` was seen: feed no more entries. */
  get untilReached(): boolean {
    return this.reachedUntil;
  }

  /** The missing documents recorded so far and not yet taken (one per namespace and `_id`). */
  missingDocuments(): readonly MissingDocument[] {
    return [...this.missing.values()];
  }

  /** Returns the recorded missing documents and forgets them (call after storing them durably). */
  takeMissingDocuments(): MissingDocument[] {
    const taken = [...this.missing.values()];
    this.missing.clear();
    return taken;
  }

  /** Transactions with buffered, uncommitted operations, oldest first. */
  openTransactions(): OpenTransaction[] {
    return this.buffer.openTransactions();
  }

  /**
   * Where a replay must restart to rebuild the transaction buffer: the first entry of the oldest open transaction
   * (inclusive), or undefined when none is open. A stored applied position should not be trusted past this point,
   * since buffered operations are lost on restart.
   */
  resumeFrom(): OpTime | undefined {
    return this.buffer.oldestOpenTs();
  }

  /** Validates and applies one oplog entry; see the module comment for the order of the checks. */
  async applyEntry(raw: unknown): Promise<ApplyResult> {
    if (this.busy) {
      throw new TidemarkError(
        'OplogApplier.applyEntry was called while another entry was being applied: entries must be applied one at ' +
          'a time, in oplog order',
        { retriable: false },
      );
    }
    this.busy = true;
    try {
      return await this.applyTopLevel(raw);
    } finally {
      this.busy = false;
    }
  }

  private async applyTopLevel(raw: unknown): Promise<ApplyResult> {
    let entry: OplogEntry;
    try {
      entry = validateEntry(raw);
    } catch (err) {
      throw this.wrap(err, rawContext(raw));
    }
    const ts = timestampToOpTime(entry.ts);
    const command = entry.op === 'c' ? commandName(entry) : undefined;
    const context: ApplyContext = {
      ts,
      op: entry.op,
      ns: entry.ns,
      ...(command === undefined ? {} : { command }),
    };
    const tally: Tally = { counts: emptyCounts(), missing: [] };
    const result = (outcome: ApplyOutcome, reason?: string): ApplyResult => ({
      ts,
      op: entry.op,
      ns: entry.ns,
      ...(command === undefined ? {} : { command }),
      outcome,
      ...(reason === undefined ? {} : { reason }),
      counts: tally.counts,
      missing: tally.missing,
    });

    try {
      // 1-3: namespaces, ignored op types, ignored commands.
      const step: Step = { operation: entry, ts, path: undefined, depth: 0 };
      const screened = this.screen(entry);
      if ('skip' in screened) {
        tally.counts.skipped += 1;
        return result(screened.skip.outcome, screened.skip.reason);
      }
      // 4: the until bound.
      if (this.reachedUntil || (this.until !== undefined && compareOpTime(ts, this.until) >= 0)) {
        this.reachedUntil = true;
        return result(
          'until-reached',
          this.until === undefined ? undefined : `at or after ${formatOpTime(this.until)}`,
        );
      }
      // 5: dispatch; transaction commands first.
      const rule = command === undefined ? undefined : commandRule(command);
      if (rule?.kind === 'transaction') {
        return await this.applyTransactionCommand(entry, rule.role, step, tally, result);
      }
      const outcome = await this.dispatch(step, screened.resolution, tally);
      return result(outcome.outcome, outcome.reason);
    } catch (err) {
      throw this.wrap(err, context);
    }
  }

  /** Steps 1-3 for any op (top-level or nested): why it is skipped, or what it acts on. */
  private screen(operation: OplogOperation): Screened {
    const resolution = this.resolve(operation);
    if (resolution.kind === 'skip') {
      return { skip: { outcome: 'skipped-namespace', reason: resolution.reason } };
    }
    const ignoredOp = IGNORED_OP_TYPES[operation.op];
    if (ignoredOp !== undefined) return { skip: { outcome: 'skipped-op', reason: ignoredOp } };
    if (resolution.kind === 'command' && resolution.rule?.kind === 'ignore') {
      return { skip: { outcome: 'ignored-command', reason: resolution.rule.reason } };
    }
    return { resolution };
  }

  /** Step 1: the target namespaces of an op, or why it is skipped. */
  private resolve(operation: OplogOperation): Resolution {
    if (operation.op === 'c') return this.resolveCommand(operation);
    if (operation.op === 'i' && operation.ns.endsWith('.system.indexes') && isDocumentValue(operation.o)) {
      // Servers before 4.2 (3.4 and older on the wire) created indexes by inserting the spec into system.indexes.
      const indexed = operation.o['ns'];
      if (typeof indexed !== 'string') {
        throw new MalformedOplogEntryError('a system.indexes insert must name its collection in "ns"', {
          field: 'o.ns',
        });
      }
      const targetNs = this.mapCollection(indexed);
      if (targetNs === null) return { kind: 'skip', reason: `namespace ${indexed} is excluded` };
      return { kind: 'legacy-index', targetNs };
    }
    if (
      ['i', 'u', 'd'].includes(operation.op) &&
      parseNamespace(operation.ns).collection === VIEWS_COLLECTION
    ) {
      return this.resolveViewDefinition(operation);
    }
    if (!['i', 'u', 'd'].includes(operation.op)) {
      // n and the ignored op types: step 2 skips them; they have no namespace to map.
      return { kind: 'document', sourceNs: operation.ns, targetNs: operation.ns };
    }
    const targetNs = this.mapCollection(operation.ns);
    if (targetNs === null) return { kind: 'skip', reason: `namespace ${operation.ns} is excluded` };
    return { kind: 'document', sourceNs: operation.ns, targetNs };
  }

  private resolveCommand(operation: OplogOperation): Resolution {
    const name = commandName(operation);
    const rule = commandRule(name);
    const db = databaseOf(operation.ns);
    if (rule === undefined || rule.kind !== 'apply') {
      // Unknown, ignored, refused and transaction commands have no declared scope. Unknown commands in a database
      // the job does not back up are skipped; elsewhere (admin.$cmd included: it carries cluster-wide commands)
      // they go on to dispatch, which refuses them.
      if (rule?.kind !== 'transaction' && db !== 'admin' && this.mapDatabase(db) === null) {
        return { kind: 'skip', reason: `database ${db} is excluded` };
      }
      return { kind: 'command', name, rule, scope: undefined };
    }
    const scope: CommandScope = rule.scope(operation);
    switch (scope.kind) {
      case 'collection': {
        const ns = this.mapCollection(scope.ns);
        if (ns === null) return { kind: 'skip', reason: `namespace ${scope.ns} is excluded` };
        return { kind: 'command', name, rule, scope: { kind: 'collection', ns } };
      }
      case 'database': {
        const mapped = this.mapDatabase(scope.db);
        if (mapped === null) return { kind: 'skip', reason: `database ${scope.db} is excluded` };
        return { kind: 'command', name, rule, scope: { kind: 'database', db: mapped } };
      }
      case 'rename': {
        const from = this.mapCollection(scope.from);
        const to = this.mapCollection(scope.to);
        if (from === null && to === null) {
          return { kind: 'skip', reason: `namespaces ${scope.from} and ${scope.to} are excluded` };
        }
        return { kind: 'command', name, rule, scope: { kind: 'rename', from, to } };
      }
      case 'cluster':
        return { kind: 'command', name, rule, scope: undefined };
    }
  }

  /**
   * A write to `<db>.system.views` (MongoDB's view definitions, time-series collections' views included): skipped
   * like every `system.*` namespace when the view it defines (`_id`, `o2._id` for an update) is excluded; refused
   * with {@link UnsupportedNamespaceError} when the job backs that namespace up, since Tidemark backs up neither.
   */
  private resolveViewDefinition(operation: OplogOperation): Resolution {
    const holder = operation.op === 'u' ? operation.o2 : operation.o;
    const view = isDocumentValue(holder) ? holder['_id'] : undefined;
    const skip: Resolution = { kind: 'skip', reason: `namespace ${operation.ns} is excluded` };
    if (typeof view !== 'string' || !view.includes('.') || this.mapCollection(view) === null) return skip;
    const viewOn = isDocumentValue(operation.o) ? operation.o['viewOn'] : undefined;
    const onBuckets = typeof viewOn === 'string' && viewOn.startsWith(TIMESERIES_BUCKETS_PREFIX);
    throw new UnsupportedNamespaceError({
      namespaces: [{ ns: view, type: onBuckets ? 'timeseries' : 'view' }],
    });
  }

  /** The target namespace of a source collection namespace, or null when excluded. */
  private mapCollection(sourceNs: string): string | null {
    const { db, collection } = parseNamespace(sourceNs);
    if (db === '' || collection === undefined || collection === '') return null;
    if (EXCLUDED_DATABASES.includes(db) || collection.startsWith(SYSTEM_COLLECTION_PREFIX)) return null;
    const mapped = this.mapNamespace(sourceNs);
    if (mapped !== null && (typeof mapped !== 'string' || !/^[^.]+\..+$/.test(mapped))) {
      throw new TidemarkError(
        `mapNamespace("${sourceNs}") returned ${JSON.stringify(mapped)}, not "db.collection"`,
        {
          retriable: false,
        },
      );
    }
    return mapped;
  }

  /** The target database of a source database, or null when excluded. */
  private mapDatabase(sourceDb: string): string | null {
    if (sourceDb === '' || EXCLUDED_DATABASES.includes(sourceDb)) return null;
    const mapped = this.mapNamespace(sourceDb);
    if (mapped !== null && (typeof mapped !== 'string' || mapped === '' || mapped.includes('.'))) {
      throw new TidemarkError(
        `mapNamespace("${sourceDb}") returned ${JSON.stringify(mapped)}, not a database name`,
        {
          retriable: false,
        },
      );
    }
    return mapped;
  }

  /** Step 5 for one op that passed steps 1-4. */
  private async dispatch(
    step: Step,
    resolution: Target,
    tally: Tally,
  ): Promise<{ outcome: ApplyOutcome; reason?: string }> {
    const { operation } = step;
    switch (resolution.kind) {
      case 'legacy-index':
        await this.target.createIndexes(resolution.targetNs, [legacyIndexSpec(operation.o)]);
        tally.counts.commands += 1;
        return { outcome: 'applied' };
      case 'document':
        return this.applyDocumentOp(step, resolution.sourceNs, resolution.targetNs, tally);
      case 'command':
        return this.applyCommand(step, resolution, tally);
    }
  }

  private async applyDocumentOp(
    step: Step,
    sourceNs: string,
    targetNs: string,
    tally: Tally,
  ): Promise<{ outcome: ApplyOutcome; reason?: string }> {
    const { operation } = step;
    switch (operation.op) {
      case 'i':
        await this.target.insertOrReplace(targetNs, operation.o);
        this.forgetMissing(sourceNs, operation.o['_id']);
        tally.counts.inserted += 1;
        return { outcome: 'applied' };
      case 'd':
        await this.target.delete(targetNs, { _id: operation.o['_id'] });
        this.forgetMissing(sourceNs, operation.o['_id']);
        tally.counts.deleted += 1;
        return { outcome: 'applied' };
      case 'u':
        return this.applyUpdate(step, sourceNs, targetNs, tally);
      default:
        throw new MalformedOplogEntryError(`op type "${operation.op}" cannot be applied`, { field: 'op' });
    }
  }

  private async applyUpdate(
    step: Step,
    sourceNs: string,
    targetNs: string,
    tally: Tally,
  ): Promise<{ outcome: ApplyOutcome; reason?: string }> {
    const id = (step.operation.o2 as Document)['_id'];
    const filter = { _id: id };
    const form = classifyUpdate(step.operation.o, id);
    let matched: boolean;
    switch (form.kind) {
      case 'replacement':
        // The entry holds the whole document: an upsert reproduces it whether or not the target has it.
        await this.target.insertOrReplace(targetNs, form.doc);
        this.forgetMissing(sourceNs, id);
        tally.counts.replaced += 1;
        return { outcome: 'applied' };
      case 'modifier':
        matched = (await this.target.update(targetNs, filter, { kind: 'modifier', spec: form.spec })).matched;
        break;
      case 'diff':
        matched =
          this.strategy === 'post-image'
            ? await this.applyDiffAsPostImage(targetNs, filter, form.diff)
            : await this.applyDiffAsModifiers(targetNs, filter, form.diff);
        break;
    }
    if (!matched) {
      this.recordMissing({ sourceNs, targetNs, id, ts: step.ts }, tally);
      return { outcome: 'missing-document', reason: `no document with this _id in ${targetNs}` };
    }
    tally.counts.updated += 1;
    return { outcome: 'applied' };
  }

  private async applyDiffAsPostImage(
    targetNs: string,
    filter: { _id: unknown },
    diff: Parameters<typeof applyV2Diff>[1],
  ): Promise<boolean> {
    const findById = this.target.findById;
    if (findById === undefined) throw new TypeError('post-image strategy without findById');
    const current = await findById.call(this.target, targetNs, filter);
    if (current === null) return false;
    const next = applyV2Diff(current, diff);
    return (await this.target.update(targetNs, filter, { kind: 'replacement', doc: next })).matched;
  }

  private async applyDiffAsModifiers(
    targetNs: string,
    filter: { _id: unknown },
    diff: Parameters<typeof diffToModifier>[0],
  ): Promise<boolean> {
    const plan = diffToModifier(diff);
    // A diff that changes nothing expressible still has to find its document: an empty $set matches it.
    const steps = [plan.modifier, ...plan.resizes].filter((spec) => spec !== undefined);
    if (steps.length === 0) steps.push({ $set: {} });
    let first = true;
    for (const spec of steps) {
      const { matched } = await this.target.update(targetNs, filter, { kind: 'modifier', spec });
      if (first && !matched) return false;
      first = false;
    }
    return true;
  }

  private async applyCommand(
    step: Step,
    resolution: Extract<Target, { kind: 'command' }>,
    tally: Tally,
  ): Promise<{ outcome: ApplyOutcome; reason?: string }> {
    const { rule, name } = resolution;
    const ts = step.ts;
    if (rule === undefined) {
      throw new UnknownOplogCommandError({ command: name, ts, namespace: step.operation.ns });
    }
    switch (rule.kind) {
      case 'ignore':
        tally.counts.skipped += 1;
        return { outcome: 'ignored-command', reason: rule.reason };
      case 'reject':
        throw new UnreplayableEntryError(`command "${name}": ${rule.reason}`);
      case 'transaction':
        // Only reached for nested ops: a transaction command inside applyOps.
        if (rule.role !== 'applyOps') {
          throw new MalformedOplogEntryError(`"${name}" cannot be nested in applyOps`, { field: 'o' });
        }
        await this.applyNested(step.operation, step, tally);
        return { outcome: 'applied' };
      case 'apply': {
        const scope = resolution.scope;
        if (scope === undefined) throw new TypeError(`command ${name} has no resolved scope`);
        const outcome = await rule.apply({ target: this.target, operation: step.operation, scope });
        if (outcome.outcome === 'ignored') {
          tally.counts.skipped += 1;
          return { outcome: 'ignored-command', reason: outcome.reason };
        }
        tally.counts.commands += 1;
        this.adjustMissingAfterCommand(name, step.operation, scope);
        return { outcome: 'applied' };
      }
    }
  }

  /** `applyOps`, `commitTransaction` and `abortTransaction` at top level: the transaction logic. */
  private async applyTransactionCommand(
    entry: OplogEntry,
    role: 'applyOps' | 'commit' | 'abort',
    step: Step,
    tally: Tally,
    result: (outcome: ApplyOutcome, reason?: string) => ApplyResult,
  ): Promise<ApplyResult> {
    const key = transactionKey(entry);
    if (role === 'applyOps' && key === undefined) {
      // Not a transaction (a user-run applyOps, or a batched write): apply the nested ops now.
      await this.applyNested(entry, step, tally);
      return result('applied');
    }
    if (key === undefined) {
      throw new MalformedOplogEntryError(`"${commandName(entry)}" needs lsid and txnNumber`, {
        field: 'lsid',
      });
    }
    if (role === 'abort') {
      const had = this.buffer.has(key);
      this.buffer.drop(key);
      return result('aborted', had ? 'buffered operations dropped' : 'no operations were buffered');
    }
    this.checkChain(entry, key);
    if (role === 'commit') {
      if (!this.buffer.has(key)) {
        throw new UnreplayableEntryError(
          'commitTransaction of a transaction whose prepared entries were not seen: the replay started inside the ' +
            "transaction; restart it from the applier's resumeFrom() position",
        );
      }
      await this.applyBuffered(key, step, tally);
      return result('applied');
    }
    const { partial, prepare } = applyOpsFlags(entry.o, entry.partialTxn);
    const ops = this.nestedOps(entry, step);
    if (partial || prepare) {
      this.buffer.add(key, entry.ts, ops, prepare);
      return result(
        'buffered',
        prepare
          ? 'prepared transaction: waiting for commitTransaction'
          : 'partial transaction: waiting for its commit',
      );
    }
    // The last entry of an unprepared transaction commits it: buffered parts first, then its own ops.
    await this.applyBuffered(key, step, tally, ops);
    return result('applied');
  }

  /** A transaction part's `prevOpTime` must name the last entry seen of that transaction. */
  private checkChain(entry: OplogEntry, key: string): void {
    const last = this.buffer.lastTs(key);
    if (isEmptyPrevOpTime(entry)) {
      if (last !== undefined) {
        throw new UnreplayableEntryError(
          `transaction ${key} restarts its chain (empty prevOpTime) while ${this.buffer.operations(key).length} ` +
            'operations are buffered',
        );
      }
      return;
    }
    const prev = timestampToOpTime((entry.prevOpTime as { ts: Timestamp }).ts);
    if (last === undefined) {
      throw new UnreplayableEntryError(
        `transaction ${key} continues from ${formatOpTime(prev)}, an entry that was not seen: the replay started ` +
          "inside the transaction; restart it from the applier's resumeFrom() position",
      );
    }
    if (compareOpTime(prev, last) !== 0) {
      throw new UnreplayableEntryError(
        `transaction ${key} continues from ${formatOpTime(prev)}, but its last seen entry is ${formatOpTime(last)}`,
      );
    }
  }

  /** Applies the buffered ops of `key`, then `own` (the committing entry's ops), then forgets the transaction. */
  private async applyBuffered(
    key: string,
    step: Step,
    tally: Tally,
    own: readonly { operation: OplogOperation; path: string }[] = [],
  ): Promise<void> {
    const buffered = this.buffer.operations(key).map(({ operation, entryTs, path }) => ({
      operation,
      path: `${path} of entry ${formatOpTime(entryTs)}`,
    }));
    await this.applyOpsList([...buffered, ...own], step, tally);
    // Dropped only once every op is applied: a retry after a failure re-applies the whole transaction.
    this.buffer.drop(key);
  }

  /** The ops nested in an `applyOps` command, validated, with their positions. */
  private nestedOps(operation: OplogOperation, parent: Step): { operation: OplogOperation; path: string }[] {
    const list = operation.o['applyOps'];
    const prefix = parent.path === undefined ? '' : `${parent.path}.`;
    if (!Array.isArray(list)) {
      throw new MalformedOplogEntryError('"applyOps" must be an array of operations', {
        field: `${prefix}o.applyOps`,
      });
    }
    return list.map((raw: unknown, index) => {
      const path = `${prefix}applyOps[${index}]`;
      return { operation: validateOperation(raw, { path: `${path}.` }), path };
    });
  }

  private async applyNested(operation: OplogOperation, parent: Step, tally: Tally): Promise<void> {
    await this.applyOpsList(this.nestedOps(operation, parent), parent, tally);
  }

  /** Applies nested ops one by one: steps 1-3, then dispatch; each failure wrapped with its position. */
  private async applyOpsList(
    ops: readonly { operation: OplogOperation; path: string }[],
    parent: Step,
    tally: Tally,
  ): Promise<void> {
    if (parent.depth >= MAX_APPLY_OPS_DEPTH) {
      throw new MalformedOplogEntryError(`applyOps nested deeper than ${MAX_APPLY_OPS_DEPTH} levels`, {
        field: 'o.applyOps',
      });
    }
    for (const { operation, path } of ops) {
      const step: Step = { operation, ts: parent.ts, path, depth: parent.depth + 1 };
      const command = operation.op === 'c' ? commandName(operation) : undefined;
      try {
        const screened = this.screen(operation);
        if ('skip' in screened) {
          tally.counts.skipped += 1;
          continue;
        }
        await this.dispatch(step, screened.resolution, tally);
      } catch (err) {
        throw this.wrap(err, {
          ts: parent.ts,
          op: operation.op,
          ns: operation.ns,
          path,
          ...(command === undefined ? {} : { command }),
        });
      }
    }
  }

  private recordMissing(doc: MissingDocument, tally: Tally): void {
    const key = `${doc.sourceNs}\u0000${idKey(doc.id)}`;
    if (!this.missing.has(key) && this.missing.size >= this.maxMissing) {
      throw new TidemarkError(
        `more than ${this.maxMissing} missing documents are held: drain them with takeMissingDocuments() more often`,
        { retriable: false },
      );
    }
    this.missing.delete(key);
    this.missing.set(key, doc);
    tally.missing.push(doc);
    tally.counts.missing += 1;
  }

  /** A later insert, delete or replacement settles a missing document: nothing needs fetching any more. */
  private forgetMissing(sourceNs: string, id: unknown): void {
    if (this.missing.size > 0) this.missing.delete(`${sourceNs}\u0000${idKey(id)}`);
  }

  /** Drops and renames move or settle the missing documents of the namespaces they touch. */
  private adjustMissingAfterCommand(name: string, operation: OplogOperation, scope: MappedScope): void {
    if (this.missing.size === 0) return;
    const entries = [...this.missing.entries()];
    if (name === 'drop' && scope.kind === 'collection') {
      const sourceNs = `${databaseOf(operation.ns)}.${String(operation.o['drop'])}`;
      for (const [key, doc] of entries) if (doc.sourceNs === sourceNs) this.missing.delete(key);
    } else if (name === 'dropDatabase') {
      const db = databaseOf(operation.ns);
      for (const [key, doc] of entries) if (databaseOf(doc.sourceNs) === db) this.missing.delete(key);
    } else if (name === 'renameCollection' && scope.kind === 'rename') {
      const from = String(operation.o['renameCollection']);
      const to = String(operation.o['to']);
      for (const [key, doc] of entries) {
        if (doc.sourceNs === to) this.missing.delete(key);
        if (doc.sourceNs !== from) continue;
        this.missing.delete(key);
        if (scope.to !== null) {
          this.missing.set(`${to}\u0000${idKey(doc.id)}`, { ...doc, sourceNs: to, targetNs: scope.to });
        }
      }
    }
  }

  private wrap(err: unknown, context: ApplyContext): Error {
    if (err instanceof UnknownOplogCommandError || err instanceof OplogApplyError) return err;
    const reason = err instanceof Error ? err.message : String(err);
    return new OplogApplyError(context, reason, { cause: err });
  }
}

/** `<lsid as canonical JSON>:<txnNumber>` for a transaction entry, or undefined when it has no session. */
function transactionKey(entry: OplogEntry): string | undefined {
  if (entry.lsid === undefined || entry.txnNumber === undefined) return undefined;
  return `${idKey(entry.lsid)}:${entry.txnNumber}`;
}

/** The index spec of a legacy `system.indexes` insert (the `ns` field names the collection, not the index). */
function legacyIndexSpec(o: Document): IndexSpec {
  const { ns: _ns, ...spec } = o;
  if (!isDocumentValue(spec['key']) || typeof spec['name'] !== 'string') {
    throw new MalformedOplogEntryError('a system.indexes insert needs "key" and "name"', { field: 'o' });
  }
  return spec as IndexSpec;
}

/** Best-effort context of an entry that failed validation. */
function rawContext(raw: unknown): ApplyContext {
  const doc = isDocumentValue(raw) ? raw : {};
  const ts = isTimestamp(doc['ts']) ? timestampToOpTime(doc['ts']) : MIN_OP_TIME;
  return {
    ts,
    op: typeof doc['op'] === 'string' ? doc['op'] : '?',
    ns: typeof doc['ns'] === 'string' ? doc['ns'] : '?',
  };
}
