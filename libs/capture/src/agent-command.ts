/**
 * The commands the agent acts on, decoded and validated from a `JobCommand` record (tidemark.commands). The
 * parameters (docs/pipeline.md, "Commands"):
 * - START / RESTART / RESYNC: `syncId`, `syncNo`, `sourceUri`, `include`, `exclude` (JSON arrays of `db` or
 *   `db.coll`), `readLimit` (MB/s as a decimal number; absent: uncapped);
 * - STOP / TERMINATE: none;
 * - FETCH_MISSING_DOCUMENTS: `syncId`, `batch` (1-based), `batches` (0 = none missing), `ns`, `ids` (EJSON
 *   canonical array of `_id` values, at most 1000).
 * Other actions (TAKE_SNAPSHOT) are not the agent's.
 */
import { EJSON } from 'bson';
import {
  TidemarkError,
  validateNamespaceFilters,
  validateReadLimit,
  type NamespaceFilters,
  type ReadLimit,
} from '@tidemark/domain';

/** What the agent reads of a `JobCommand` record, declared where it is read; the bus's decoded record satisfies it. */
export interface JobCommandRecord {
  readonly commandId: string;
  readonly jobId: string;
  readonly action: string;
  readonly issuedAt: Date;
  readonly params: Readonly<Record<string, string>>;
}

interface CommandBase {
  readonly commandId: string;
  readonly jobId: string;
  readonly issuedAt: Date;
}

export interface SyncCommand extends CommandBase {
  readonly kind: 'sync';
  readonly action: 'START' | 'RESTART' | 'RESYNC';
  readonly syncId: string;
  readonly syncNo: number;
  readonly sourceUri: string;
  readonly filters: NamespaceFilters;
  /** MB/s the sync may read; undefined: uncapped. */
  readonly readLimit: ReadLimit | undefined;
}

export interface StopCommand extends CommandBase {
  readonly kind: 'stop';
  readonly action: 'STOP' | 'TERMINATE';
}

export interface FetchMissingCommand extends CommandBase {
  readonly kind: 'fetch-missing';
  readonly syncId: string;
  readonly batch: number;
  readonly batches: number;
  readonly ns: string | undefined;
  readonly ids: readonly unknown[];
}

export interface OtherCommand extends CommandBase {
  readonly kind: 'other';
  readonly action: string;
}

export type AgentCommand = SyncCommand | StopCommand | FetchMissingCommand | OtherCommand;

/** A command whose parameters are missing or malformed. Not retriable: redelivery brings the same bytes. */
export class CommandRejectedError extends TidemarkError {
  override readonly name: string = 'CommandRejectedError';
  readonly commandId: string;

  constructor(command: Pick<JobCommandRecord, 'commandId' | 'jobId' | 'action'>, reason: string) {
    super(`command ${command.commandId} (${command.action} for job ${command.jobId}) rejected: ${reason}`, {
      retriable: false,
    });
    this.commandId = command.commandId;
  }
}

export const MAX_IDS_PER_FETCH = 1000;

/** The `readLimit` parameter: absent or empty for none, else a decimal number of MB/s in the domain's bounds. */
function readLimitParam(text: string | undefined, reject: (reason: string) => never): ReadLimit | undefined {
  if (text === undefined || text === '') return undefined;
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  const problems = validateReadLimit(value, 'parameter readLimit');
  return problems.length === 0 ? value : reject(`${problems.join('; ')} (${JSON.stringify(text)})`);
}

/** Decodes a command; throws {@link CommandRejectedError} naming the first bad parameter. */
export function decodeAgentCommand(record: JobCommandRecord): AgentCommand {
  const reject = (reason: string): never => {
    throw new CommandRejectedError(record, reason);
  };
  const base = { commandId: record.commandId, jobId: record.jobId, issuedAt: record.issuedAt };
  const param = (name: string): string => {
    const value = record.params[name];
    return value === undefined || value === '' ? reject(`parameter ${name} is missing`) : value;
  };
  const count = (name: string, min: number): number => {
    const text = param(name);
    const value = Number(text);
    return /^\d+$/.test(text) && Number.isSafeInteger(value) && value >= min
      ? value
      : reject(`parameter ${name} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
  };
  const stringList = (name: string): string[] => {
    const text = record.params[name];
    if (text === undefined || text === '') return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return reject(`parameter ${name} is not JSON`);
    }
    return Array.isArray(parsed) && parsed.every((v) => typeof v === 'string')
      ? parsed
      : reject(`parameter ${name} must be a JSON array of strings`);
  };

  switch (record.action) {
    case 'START':
    case 'RESTART':
    case 'RESYNC': {
      const filters = { include: stringList('include'), exclude: stringList('exclude') };
      const problems = validateNamespaceFilters(filters);
      if (problems.length > 0) reject(problems.join('; '));
      const syncNo = count('syncNo', 1);
      const syncId = param('syncId');
      const sourceUri = param('sourceUri');
      if (!/^mongodb(\+srv)?:\/\//.test(sourceUri)) reject('parameter sourceUri is not a mongodb:// URI');
      const readLimit = readLimitParam(record.params['readLimit'], reject);
      return { ...base, kind: 'sync', action: record.action, syncId, syncNo, sourceUri, filters, readLimit };
    }
    case 'STOP':
    case 'TERMINATE':
      return { ...base, kind: 'stop', action: record.action };
    case 'FETCH_MISSING_DOCUMENTS': {
      const syncId = param('syncId');
      const batches = count('batches', 0);
      if (batches === 0)
        return { ...base, kind: 'fetch-missing', syncId, batch: 0, batches, ns: undefined, ids: [] };
      const batch = count('batch', 1);
      if (batch > batches) reject(`batch ${batch} is after the last batch ${batches}`);
      const ns = param('ns');
      if (!/^[^.]+\..+$/.test(ns)) reject(`parameter ns "${ns}" is not db.collection`);
      let ids: unknown;
      try {
        ids = EJSON.parse(param('ids'), { relaxed: false });
      } catch (err) {
        return reject(`parameter ids is not EJSON: ${(err as Error).message}`);
      }
      if (!Array.isArray(ids)) reject('parameter ids must be an EJSON array');
      const list = ids as unknown[];
      if (list.length > MAX_IDS_PER_FETCH) reject(`${list.length} ids, at most ${MAX_IDS_PER_FETCH}`);
      return { ...base, kind: 'fetch-missing', syncId, batch, batches, ns, ids: list };
    }
    default:
      return { ...base, kind: 'other', action: record.action };
  }
}
