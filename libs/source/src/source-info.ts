/** Facts about the source deployment recorded with each sync (PhaseChanged details, catalog slice). */
import { MongoServerError, type MongoClient } from 'mongodb';
import type { SourceFacts } from '@tidemark/capture';
import { toSourceError, type SourceErrorClassifier } from './source-error';

/**
 * The `SourceFacts` of the agent's `SourceReader` port (`buildInfo.version`, e.g. `7.0.14`; the
 * `featureCompatibilityVersion`, e.g. `7.0`, or `unknown` when the server does not report it), and the flavor.
 */
export interface SourceInfo extends SourceFacts {
  /** `ferretdb` when `buildInfo` names a FerretDB version, else `mongodb`. */
  readonly flavor: 'mongodb' | 'ferretdb';
}

export const UNKNOWN_FCV = 'unknown';

/**
 * Server version (`buildInfo`) and feature compatibility version (`getParameter`). A server that does not support
 * `getParameter` for it (some MongoDB-compatible servers) gives `unknown` instead of failing the sync; a network
 * failure still fails.
 */
export async function sourceInfo(client: MongoClient, classify?: SourceErrorClassifier): Promise<SourceInfo> {
  const admin = client.db('admin');
  let serverVersion: string;
  let flavor: SourceInfo['flavor'];
  try {
    const build = await admin.command({ buildInfo: 1 });
    serverVersion = typeof build['version'] === 'string' ? build['version'] : 'unknown';
    flavor = build['ferretdbVersion'] === undefined ? 'mongodb' : 'ferretdb';
  } catch (err) {
    throw toSourceError(err, 'read buildInfo', classify);
  }
  let featureCompatibilityVersion = UNKNOWN_FCV;
  try {
    const reply = await admin.command({ getParameter: 1, featureCompatibilityVersion: 1 });
    const fcv = (reply['featureCompatibilityVersion'] as { version?: unknown } | undefined)?.version;
    if (typeof fcv === 'string') featureCompatibilityVersion = fcv;
  } catch (err) {
    // The server answered but cannot tell: report unknown. Anything else (network) is a real failure.
    if (!(err instanceof MongoServerError))
      throw toSourceError(err, 'read featureCompatibilityVersion', classify);
  }
  return { serverVersion, featureCompatibilityVersion, flavor };
}

/** Overrides the stability delay of a FerretDB source, ms (the test servers set it for their backend). */
export const FERRETDB_STABILITY_DELAY_ENV = 'TIDEMARK_FERRETDB_STABILITY_DELAY_MS';
/** A FerretDB source's stability delay when {@link FERRETDB_STABILITY_DELAY_ENV} is unset: safe on either backend. */
export const FERRETDB_STABILITY_DELAY_MS = 5_000;

/**
 * How the oplog tail should read this server (`OplogTailOptions.mode` and `stabilityDelayMs`). MongoDB: one
 * tailable cursor, no delay (a tailing reader never sees holes). FerretDB: it gives an entry its `ts` before
 * storing it in a write of its own, so an earlier entry can be stored (and become visible) after a later one,
 * and its tailable cursors re-run their query on each getMore, skipping or repeating entries under concurrent
 * writes; so poll with fresh queries sorted by `ts` and hand out only entries older than the stability delay:
 * 5 s, or `TIDEMARK_FERRETDB_STABILITY_DELAY_MS` (how long a hole lasts depends on FerretDB's backend: on SQLite
 * a write waits for the one writer lock, on PostgreSQL it does not; README, "Where FerretDB differs").
 */
export function recommendedTailSettings(
  info: Pick<SourceInfo, 'flavor'>,
  env: NodeJS.ProcessEnv = process.env,
): {
  mode: 'tailable' | 'poll';
  stabilityDelayMs: number;
} {
  if (info.flavor !== 'ferretdb') return { mode: 'tailable', stabilityDelayMs: 0 };
  const configured = env[FERRETDB_STABILITY_DELAY_ENV];
  const ms = configured === undefined || configured === '' ? FERRETDB_STABILITY_DELAY_MS : Number(configured);
  if (!Number.isInteger(ms) || ms < 0) {
    throw new Error(
      `${FERRETDB_STABILITY_DELAY_ENV}=${configured ?? ''} is not a whole number of milliseconds`,
    );
  }
  return { mode: 'poll', stabilityDelayMs: ms };
}

/** The source's clock (`hello.localTime`), ms since the epoch; the local clock when the server omits it. */
export async function sourceClockMs(client: MongoClient, classify?: SourceErrorClassifier): Promise<number> {
  try {
    const reply = await client.db('admin').command({ hello: 1 });
    const time = reply['localTime'];
    return time instanceof Date ? time.getTime() : Date.now();
  } catch (err) {
    throw toSourceError(err, 'read the source clock', classify);
  }
}
