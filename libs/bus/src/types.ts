// GENERATED FILE, do not edit. Source: schemas/**/*.avsc (current versions).
// Regenerate with: node --import tsx libs/bus/tools/gen-avro-types.ts
// types.spec.ts fails when this file is out of date.
// Records keep their Avro names; enums are prefixed with Avro (their symbols are the wire values).

/** Symbols of enum tidemark.alerts.AlertSeverity, in schema order. */
export const AVRO_ALERT_SEVERITY_SYMBOLS = ['INFO', 'WARNING', 'CRITICAL'] as const;

/**
 * How urgent the alert is.
 * Avro enum `tidemark.alerts.AlertSeverity`.
 */
export type AvroAlertSeverity = (typeof AVRO_ALERT_SEVERITY_SYMBOLS)[number];

/** Symbols of enum tidemark.alerts.AlertState, in schema order. */
export const AVRO_ALERT_STATE_SYMBOLS = ['OPEN', 'CLOSED'] as const;

/**
 * OPEN: the alert opened (its condition holds); CLOSED: it closed (its condition no longer holds).
 * Avro enum `tidemark.alerts.AlertState`.
 */
export type AvroAlertState = (typeof AVRO_ALERT_STATE_SYMBOLS)[number];

/**
 * Something an operator must know about, e.g. a job that requires a resync or a slice that was dead-lettered.
 * Avro record `tidemark.alerts.AlertRaised`.
 */
export interface AlertRaised {
  /** Unique id of this alert; redelivery of the same id is a no-op. */
  alertId: string;
  /**
   * The backup job concerned, null for alerts about the system as a whole.
   * Default for readers of older data: `null`.
   */
  jobId: string | null;
  /** How urgent the alert is. */
  severity: AvroAlertSeverity;
  /** Stable machine-readable code, e.g. RESYNC_REQUIRED, SLICE_REJECTED. */
  code: string;
  /** Human-readable explanation. */
  message: string;
  /**
   * Details (topic, partition, offset, sliceId, ...), all as strings.
   * Default for readers of older data: `{}`.
   */
  context: Record<string, string>;
  /** When the alert was raised. */
  at: Date;
  /**
   * null: a stage raised the alert (a fact, as in version 1). OPEN / CLOSED: job-state's lifecycle of the alert (docs/api.md, "Alerts"); the same alertId opens once and closes once.
   * Default for readers of older data: `null`.
   */
  state: AvroAlertState | null;
  /**
   * What the alert is about within its job (a sync id, snapshot id, restore id, stage partition); null for raised alerts.
   * Default for readers of older data: `null`.
   */
  subject: string | null;
  /**
   * When the alert closed (state CLOSED), else null.
   * Default for readers of older data: `null`.
   */
  closedAt: Date | null;
  /**
   * Why the alert closed (state CLOSED), else null.
   * Default for readers of older data: `null`.
   */
  closeReason: string | null;
}

/**
 * The resource the request named.
 * Avro record `tidemark.audit.AuditResource`.
 */
export interface AuditResource {
  /** job, snapshot, restore, project, key, audit, agent, or api (a request that named no resource). */
  kind: string;
  /**
   * Its id (job id, snapshot id, restore id, project name, key id) when the request named or created one.
   * Default for readers of older data: `null`.
   */
  id: string | null;
}

/** Symbols of enum tidemark.audit.AuditOutcome, in schema order. */
export const AVRO_AUDIT_OUTCOME_SYMBOLS = ['ACCEPTED', 'REFUSED'] as const;

/**
 * ACCEPTED: answered 2xx. REFUSED: answered 4xx or 5xx.
 * Avro enum `tidemark.audit.AuditOutcome`.
 */
export type AvroAuditOutcome = (typeof AVRO_AUDIT_OUTCOME_SYMBOLS)[number];

/**
 * One request to job-state's API that changed something or was refused: who (the key id, never the key), what (the action on a resource), when, from which state, and why it was refused. job-state stores it in its audit collection first and then publishes it (an outbox: an event not yet published stays owed and goes out later), so an event may arrive twice: consumers keep one per eventId. Keyed by project (`-` when none). Never carries a key, a token or a password.
 * Avro record `tidemark.audit.AuditEvent`.
 */
export interface AuditEvent {
  /** Unique id of this event (a UUID); the same on the topic and in the API. */
  eventId: string;
  /** When job-state answered the request. */
  at: Date;
  /** Who asked: the API key's id (12 hex characters; for a refused credential, the id it names, known or not), or admin (the admin key), service (the service token), anonymous (no credential, or none that names a key). Never the key or token itself. */
  actor: string;
  /**
   * The project of the resource the request named, when known (also for a caller refused because it holds no grant there); null otherwise.
   * Default for readers of older data: `null`.
   */
  project: string | null;
  /** What was asked, <resource>.<verb>: job.create, job.start, job.stop, job.restart, job.resync, job.terminate, job.settings, snapshot.take, snapshot.verify, snapshot.delete, restore.begin, restore.progress, restore.finish, restore.cancel, project.create, project.delete, key.create, key.revoke, <resource>.read for a refused read, auth for a refused credential (401, 429). */
  action: string;
  /** What the action was on. */
  resource: AuditResource;
  /** Whether the request was carried out. */
  outcome: AvroAuditOutcome;
  /** The HTTP status job-state answered. */
  status: number;
  /**
   * Job actions: the job's state when the request came (inactive, initial-sync, active, stopped); null for other resources or when unknown.
   * Default for readers of older data: `null`.
   */
  stateBefore: string | null;
  /**
   * Job actions that were accepted: the job's state after them; null otherwise (a refused request changed nothing).
   * Default for readers of older data: `null`.
   */
  stateAfter: string | null;
  /**
   * REFUSED: why, as the API answered it (at most 1000 characters, anything shaped like a key removed); null when accepted.
   * Default for readers of older data: `null`.
   */
  reason: string | null;
  /** The HTTP method (POST, PATCH, PUT, DELETE, GET, ...). */
  method: string;
  /** The request path without its query string (anything shaped like a key removed). */
  path: string;
  /** The request's id, also sent back in the X-Request-Id response header. */
  requestId: string;
  /**
   * The address the request came from (the TCP peer), null when unknown.
   * Default for readers of older data: `null`.
   */
  clientAddress: string | null;
}

/** Symbols of enum tidemark.commands.JobAction, in schema order. */
export const AVRO_JOB_ACTION_SYMBOLS = [
  'START',
  'STOP',
  'RESTART',
  'TERMINATE',
  'RESYNC',
  'FETCH_MISSING_DOCUMENTS',
  'TAKE_SNAPSHOT',
  'VERIFY_SNAPSHOT',
  'DELETE_SNAPSHOT',
] as const;

/**
 * What to do. START, STOP, RESTART, TERMINATE and RESYNC follow the job state machine; FETCH_MISSING_DOCUMENTS asks the agent to re-read documents an update could not find; TAKE_SNAPSHOT asks the snapshotter for an on-demand snapshot; VERIFY_SNAPSHOT asks it to re-read a snapshot's manifest and blocks; DELETE_SNAPSHOT asks it to delete a snapshot. Symbols are only appended (docs/topics.md, evolution rules); VERIFY_SNAPSHOT and DELETE_SNAPSHOT came with version 2. No enum default: a reader never resolves a writer schema it does not know (it refuses the unknown fingerprint first), so a default would never be used.
 * Avro enum `tidemark.commands.JobAction`.
 */
export type AvroJobAction = (typeof AVRO_JOB_ACTION_SYMBOLS)[number];

/**
 * An instruction from job-state to the pipeline for one backup job. Stages act on the commands addressed to the jobs they serve and must treat a repeated commandId as already handled.
 * Avro record `tidemark.commands.JobCommand`.
 */
export interface JobCommand {
  /** Unique id of this command; redelivery of the same id is a no-op. */
  commandId: string;
  /** The backup job the command is for. */
  jobId: string;
  /** What to do. */
  action: AvroJobAction;
  /** When job-state issued the command. */
  issuedAt: Date;
  /**
   * Action-specific parameters, all strings: syncId, syncNo, sourceUri, include, exclude for START/RESTART/RESYNC (RESYNC also reason); syncId, batch, batches, ns, ids for FETCH_MISSING_DOCUMENTS; requestId (echoed in the SnapshotEvent records that answer it) for TAKE_SNAPSHOT; snapshotId and requestId for VERIFY_SNAPSHOT and DELETE_SNAPSHOT.
   * Default for readers of older data: `{}`.
   */
  params: Record<string, string>;
}

/** Symbols of enum tidemark.phases.Phase, in schema order. */
export const AVRO_PHASE_SYMBOLS = [
  'STARTING',
  'TRANSFERRING',
  'BUILDING',
  'APPLYING_OPLOGS',
  'FETCHING_MISSING_DOCUMENTS',
  'CREATING_INDEXES',
  'COMPLETE',
] as const;

/**
 * Initial-sync phases, in the order a sync goes through them.
 * Avro enum `tidemark.phases.Phase`.
 */
export type AvroPhase = (typeof AVRO_PHASE_SYMBOLS)[number];

/**
 * Progress of one namespace.
 * Avro record `tidemark.phases.NamespaceProgress`.
 */
export interface NamespaceProgress {
  /** The namespace, 'db.collection'. */
  namespace: string;
  /**
   * Documents of this namespace handled so far.
   * Default for readers of older data: `0`.
   */
  docsCopied: bigint;
  /**
   * Documents expected, null if unknown.
   * Default for readers of older data: `null`.
   */
  docsTotal: bigint | null;
  /**
   * Bytes of this namespace handled so far.
   * Default for readers of older data: `0`.
   */
  bytesCopied: bigint;
  /**
   * Bytes expected, null if unknown.
   * Default for readers of older data: `null`.
   */
  bytesTotal: bigint | null;
}

/**
 * Cumulative counters of the phase; totals are null while unknown.
 * Avro record `tidemark.phases.PhaseProgress`.
 */
export interface PhaseProgress {
  /**
   * Documents handled so far in this phase.
   * Default for readers of older data: `0`.
   */
  docsCopied: bigint;
  /**
   * Documents expected in this phase, null if unknown.
   * Default for readers of older data: `null`.
   */
  docsTotal: bigint | null;
  /**
   * Bytes (raw BSON) handled so far in this phase.
   * Default for readers of older data: `0`.
   */
  bytesCopied: bigint;
  /**
   * Bytes expected in this phase, null if unknown.
   * Default for readers of older data: `null`.
   */
  bytesTotal: bigint | null;
  /**
   * Per-namespace progress; empty when the stage does not track namespaces.
   * Default for readers of older data: `[]`.
   */
  namespaces: NamespaceProgress[];
}

/**
 * Progress of a job's initial sync, reported by a stage: the phase it is in and how far it got. Reports are cumulative (each carries totals so far), so a consumer may keep only the latest per (job, sync, stage).
 * Avro record `tidemark.phases.PhaseChanged`.
 */
export interface PhaseChanged {
  /** The backup job. */
  jobId: string;
  /** The initial sync (or resync) being reported on. */
  syncId: string;
  /** The phase the reporting stage is in. */
  phase: AvroPhase;
  /** Which app reported: agent, slice-ingest, head-builder, oplog-applier, snapshotter or job-state. */
  stage: string;
  /** How far the phase got. */
  progress: PhaseProgress;
  /**
   * Last applied oplog timestamp (t << 32 | i, two's-complement long) when the phase applies oplogs; null otherwise.
   * Default for readers of older data: `null`.
   */
  appliedTs: bigint | null;
  /**
   * Newest oplog timestamp the reporting stage has seen on the source (t << 32 | i, two's-complement long), for lag; null when unknown.
   * Default for readers of older data: `null`.
   */
  sourceTs: bigint | null;
  /** When the stage made this report. */
  at: Date;
  /**
   * Stage-specific facts as strings, e.g. startTs and endTs ("t.i"), serverVersion, featureCompatibilityVersion, missingDocuments, reason.
   * Default for readers of older data: `{}`.
   */
  details: Record<string, string>;
}

/** Symbols of enum tidemark.restores.RestoreEventKind, in schema order. */
export const AVRO_RESTORE_EVENT_KIND_SYMBOLS = [
  'STARTED',
  'PROGRESSED',
  'CANCEL_REQUESTED',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
] as const;

/**
 * STARTED: the restore was registered, before anything was written. PROGRESSED: new progress (at most one event per restore every few seconds). CANCEL_REQUESTED: a user asked to cancel it; it stops between batches. COMPLETED: every namespace was written (and the oplog replayed to the point). FAILED: it stopped on an error (reason says why and what was written). CANCELLED: it stopped on the user's request (reason says what was written).
 * Avro enum `tidemark.restores.RestoreEventKind`.
 */
export type AvroRestoreEventKind = (typeof AVRO_RESTORE_EVENT_KIND_SYMBOLS)[number];

/** Symbols of enum tidemark.restores.RestoreKind, in schema order. */
export const AVRO_RESTORE_KIND_SYMBOLS = ['SNAPSHOT', 'POINT_IN_TIME'] as const;

/**
 * SNAPSHOT: one snapshot as it is. POINT_IN_TIME: the newest snapshot at or before a time T plus the stored oplog up to T.
 * Avro enum `tidemark.restores.RestoreKind`.
 */
export type AvroRestoreKind = (typeof AVRO_RESTORE_KIND_SYMBOLS)[number];

/**
 * One target namespace of a restore.
 * Avro record `tidemark.restores.RestoreNamespaceProgress`.
 */
export interface RestoreNamespaceProgress {
  /** The target namespace (db.coll, after renames). */
  namespace: string;
  /** Documents written into it so far. */
  documents: bigint;
  /** True once every document and index of it is written. */
  done: boolean;
}

/**
 * Something happened to one restore (a snapshot, or a point in time, written into a target deployment): it started, made progress, was asked to cancel, or ended (completed, failed, cancelled). job-state publishes one each time it records a change of the restore; each carries the restore's whole summary, not a delta, so folding one twice changes nothing. Keyed by job id. Never carries credentials: target is the URI without them. Its format version is its schema fingerprint (single-object encoding), so it carries no version field.
 * Avro record `tidemark.restores.RestoreEvent`.
 */
export interface RestoreEvent {
  /** What happened. */
  event: AvroRestoreEventKind;
  /** Id of the restore in job-state. */
  restoreId: string;
  /** The backup job whose data is restored. */
  jobId: string;
  /** What is restored. */
  kind: AvroRestoreKind;
  /**
   * The snapshot restored; null for a point-in-time restore until it completed.
   * Default for readers of older data: `null`.
   */
  snapshotId: string | null;
  /**
   * POINT_IN_TIME: T as the user gave it (an ISO instant or an oplog position t:i); null for SNAPSHOT.
   * Default for readers of older data: `null`.
   */
  point: string | null;
  /**
   * The oplog position the target is at (t << 32 | i as an unsigned 64-bit value, stored in two's-complement form: BigInt.asIntN(64, v)); for SNAPSHOT the snapshot's position from the start, for POINT_IN_TIME once COMPLETED; null otherwise.
   * Default for readers of older data: `null`.
   */
  opTs: bigint | null;
  /**
   * Wall time of the oplog entry at opTs, when known. For display only: positions are compared by opTs.
   * Default for readers of older data: `null`.
   */
  opWallTime: Date | null;
  /** The target deployment's URI with user, password and secret options removed. */
  target: string;
  /** Namespaces (db or db.coll) selected with --include; empty: all. */
  include: string[];
  /** Namespaces (db or db.coll) left out with --exclude. */
  exclude: string[];
  /** Renames, each FROM=TO (both db or both db.coll). */
  renames: string[];
  /** True when existing target namespaces are dropped first (--drop). */
  drop: boolean;
  /** True once a user asked to cancel the restore. */
  cancelRequested: boolean;
  /** Documents written so far. */
  documents: bigint;
  /** BSON bytes of the documents written so far. */
  bytes: bigint;
  /** Oplog entries replayed so far (POINT_IN_TIME; 0 for SNAPSHOT). */
  entries: bigint;
  /** Progress per target namespace, sorted by namespace. */
  namespaces: RestoreNamespaceProgress[];
  /**
   * FAILED and CANCELLED: why, and what was written; null otherwise.
   * Default for readers of older data: `null`.
   */
  reason: string | null;
  /** When the event happened. */
  at: Date;
}

/** Symbols of enum tidemark.slices.SliceKind, in schema order. */
export const AVRO_SLICE_KIND_SYMBOLS = ['INITIAL', 'OPLOG', 'CATALOG'] as const;

/**
 * INITIAL: an initial-sync slice (documents of one namespace); OPLOG: an oplog slice (a complete range of one job's oplog entries); CATALOG: the slice that closes a transfer (one document per namespace with its options, indexes and slice count).
 * Avro enum `tidemark.slices.SliceKind`.
 */
export type AvroSliceKind = (typeof AVRO_SLICE_KIND_SYMBOLS)[number];

/** Symbols of enum tidemark.slices.SliceOrigin, in schema order. */
export const AVRO_SLICE_ORIGIN_SYMBOLS = ['SCAN', 'MISSING'] as const;

/**
 * Why documents were read: SCAN, the initial-sync transfer; MISSING, the fetching-missing-documents phase.
 * Avro enum `tidemark.slices.SliceOrigin`.
 */
export type AvroSliceOrigin = (typeof AVRO_SLICE_ORIGIN_SYMBOLS)[number];

/** Symbols of enum tidemark.slices.SliceCodec, in schema order. */
export const AVRO_SLICE_CODEC_SYMBOLS = ['NONE', 'GZIP', 'BROTLI'] as const;

/**
 * Compression applied to the concatenated BSON documents.
 * Avro enum `tidemark.slices.SliceCodec`.
 */
export type AvroSliceCodec = (typeof AVRO_SLICE_CODEC_SYMBOLS)[number];

/**
 * A slice the agent produced: a compressed bundle of raw BSON documents. INITIAL and CATALOG slices travel on tidemark.slices.initial, OPLOG slices on tidemark.slices.oplog. A consumer trusts it only after checking checksum, codec and size bounds.
 * Avro record `tidemark.slices.SliceProduced`.
 */
export interface SliceProduced {
  /** The backup job this slice belongs to. */
  jobId: string;
  /** The initial sync (or resync) this slice belongs to; a resync starts a new syncId so slices of an abandoned sync can be told apart. */
  syncId: string;
  /** Unique id of this slice; producing the same slice again (a retry) reuses the id, so storing it is idempotent. */
  sliceId: string;
  /** Which kind of slice this is. */
  kind: AvroSliceKind;
  /**
   * INITIAL and CATALOG slices: why the documents were read. Null for OPLOG slices.
   * Default for readers of older data: `null`.
   */
  origin: AvroSliceOrigin | null;
  /** Position of this slice in its stream, from 0, without gaps: per (job, sync, namespace) for INITIAL slices, per (job, sync) for OPLOG slices. */
  sequence: bigint;
  /**
   * INITIAL slices: the namespace ('db.collection') of the documents. Null for OPLOG slices (which span namespaces) and CATALOG slices.
   * Default for readers of older data: `null`.
   */
  namespace: string | null;
  /**
   * OPLOG slices: exclusive lower bound of the range, the position the tail resumed from (t << 32 | i as an unsigned 64-bit value, stored in two's-complement form: BigInt.asIntN(64, v)). Consecutive oplog slices of a job chain: prevTs equals the previous slice's lastTs. Null for other kinds.
   * Default for readers of older data: `null`.
   */
  prevTs: bigint | null;
  /**
   * OPLOG slices: timestamp of the first entry, encoded like prevTs; null when the range holds no entries of the job's namespaces, and for other kinds.
   * Default for readers of older data: `null`.
   */
  firstTs: bigint | null;
  /**
   * OPLOG slices: inclusive upper bound of the range, encoded like prevTs. Null for other kinds.
   * Default for readers of older data: `null`.
   */
  lastTs: bigint | null;
  /** Number of BSON documents (or oplog entries) in the payload. */
  docCount: bigint;
  /** Size of the concatenated BSON documents before compression. */
  rawBytes: bigint;
  /** Size of payload in bytes (after compression). */
  compressedBytes: bigint;
  /** How payload is compressed. */
  codec: AvroSliceCodec;
  /** SHA-256 of payload (the compressed bytes), lowercase hex. */
  checksum: string;
  /** Wall-clock time the agent sealed the slice (informational only; order is given by sequence and oplog timestamps). */
  producedAt: Date;
  /** The compressed bundle: raw BSON documents concatenated back to back, then compressed with codec. */
  payload: Buffer;
}

/**
 * Claim check: slice-ingest checked a slice and wrote it durably to the oplog store. Carries the slice's identity and range, not its payload; consumers load the payload from the oplog store by sliceId.
 * Avro record `tidemark.slices.SliceStored`.
 */
export interface SliceStored {
  /** The backup job this slice belongs to. */
  jobId: string;
  /** The initial sync (or resync) this slice belongs to. */
  syncId: string;
  /** Id of the stored slice; the key to load it from the oplog store. */
  sliceId: string;
  /** Which kind of slice was stored. */
  kind: AvroSliceKind;
  /**
   * INITIAL and CATALOG slices: why the documents were read. Null for OPLOG slices.
   * Default for readers of older data: `null`.
   */
  origin: AvroSliceOrigin | null;
  /** The slice's sequence, copied from SliceProduced. */
  sequence: bigint;
  /**
   * INITIAL slices: the namespace ('db.collection') of the documents. Null for OPLOG slices (which span namespaces) and CATALOG slices.
   * Default for readers of older data: `null`.
   */
  namespace: string | null;
  /**
   * OPLOG slices: exclusive lower bound of the range, the position the tail resumed from (t << 32 | i as an unsigned 64-bit value, stored in two's-complement form: BigInt.asIntN(64, v)). Consecutive oplog slices of a job chain: prevTs equals the previous slice's lastTs. Null for other kinds.
   * Default for readers of older data: `null`.
   */
  prevTs: bigint | null;
  /**
   * OPLOG slices: timestamp of the first entry, encoded like prevTs; null when the range holds no entries of the job's namespaces, and for other kinds.
   * Default for readers of older data: `null`.
   */
  firstTs: bigint | null;
  /**
   * OPLOG slices: inclusive upper bound of the range, encoded like prevTs. Null for other kinds.
   * Default for readers of older data: `null`.
   */
  lastTs: bigint | null;
  /** Number of documents (or oplog entries) in the slice. */
  docCount: bigint;
  /** Size of the stored payload in bytes. */
  compressedBytes: bigint;
  /** When the oplog store acknowledged the write. */
  storedAt: Date;
}

/** Symbols of enum tidemark.snapshots.SnapshotEventKind, in schema order. */
export const AVRO_SNAPSHOT_EVENT_KIND_SYMBOLS = [
  'STARTED',
  'COMPLETED',
  'FAILED',
  'EXPIRED',
  'VERIFIED',
  'DELETED',
] as const;

/**
 * STARTED: the snapshotter holds the job's apply fence and began copying the head at opTs. COMPLETED: every block and the manifest are durable and the snapshot record is complete. FAILED: the snapshot was given up (reason says why). EXPIRED: retention no longer keeps it; it will be deleted. VERIFIED: a verify re-read it (verify holds the outcome). DELETED: its record is gone (blocks only it referenced are left to grooming).
 * Avro enum `tidemark.snapshots.SnapshotEventKind`.
 */
export type AvroSnapshotEventKind = (typeof AVRO_SNAPSHOT_EVENT_KIND_SYMBOLS)[number];

/** Symbols of enum tidemark.snapshots.SnapshotStoreKind, in schema order. */
export const AVRO_SNAPSHOT_STORE_KIND_SYMBOLS = ['BLOCKSTORE', 'S3', 'FILESYSTEM'] as const;

/**
 * Kind of snapshot store.
 * Avro enum `tidemark.snapshots.SnapshotStoreKind`.
 */
export type AvroSnapshotStoreKind = (typeof AVRO_SNAPSHOT_STORE_KIND_SYMBOLS)[number];

/**
 * The outcome of re-reading a snapshot's manifest and blocks.
 * Avro record `tidemark.snapshots.SnapshotVerifyResult`.
 */
export interface SnapshotVerifyResult {
  /** True when the manifest and every block it references were read back and matched their checksums. */
  ok: boolean;
  /** Blocks that were missing or did not match their address; 0 when ok. */
  damagedBlocks: bigint;
}

/**
 * Something happened to one snapshot of a backup job: it was started, completed, given up (failed), expired by retention, verified, or deleted. One record for the whole life of a snapshot, so a consumer folds one ordered stream per job (keyed by job id). Its format version is its schema fingerprint (single-object encoding), so it carries no version field.
 * Avro record `tidemark.snapshots.SnapshotEvent`.
 */
export interface SnapshotEvent {
  /** What happened. */
  event: AvroSnapshotEventKind;
  /** The backup job. */
  jobId: string;
  /** Id of the snapshot in the snapshot store. */
  snapshotId: string;
  /** The job's sync whose head database was copied (<jobId>-s<syncNo>). */
  syncId: string;
  /** Which snapshot store holds it. */
  store: AvroSnapshotStoreKind;
  /** The applied oplog position the snapshot is exactly (t << 32 | i as an unsigned 64-bit value, stored in two's-complement form: BigInt.asIntN(64, v)). */
  opTs: bigint;
  /**
   * Wall time of the oplog entry at opTs, when known; null otherwise. For display only: positions are compared by opTs.
   * Default for readers of older data: `null`.
   */
  opWallTime: Date | null;
  /** When the snapshot began. */
  takenAt: Date;
  /**
   * When the snapshot became complete; null while it is not (STARTED, FAILED).
   * Default for readers of older data: `null`.
   */
  completedAt: Date | null;
  /** Sum of the BSON sizes of the snapshot's documents (0 for STARTED). */
  logicalBytes: bigint;
  /** Bytes of the blocks this snapshot wrote that were not in the store yet, i.e. what it added to the store (0 for STARTED). */
  storedBytes: bigint;
  /** Number of namespaces in the snapshot (0 for STARTED). */
  namespaceCount: bigint;
  /** Number of documents in the snapshot (0 for STARTED). */
  documentCount: bigint;
  /**
   * SHA-256 of the manifest, lowercase hex, once the manifest is written; null before (STARTED, most FAILED).
   * Default for readers of older data: `null`.
   */
  manifestChecksum: string | null;
  /**
   * FAILED: why it was given up; VERIFIED with damage: a summary of the damage; EXPIRED, DELETED: why (retention rule, request); null otherwise.
   * Default for readers of older data: `null`.
   */
  reason: string | null;
  /**
   * VERIFIED: the outcome; null for the other events.
   * Default for readers of older data: `null`.
   */
  verify: SnapshotVerifyResult | null;
  /**
   * The requestId parameter of the JobCommand (TAKE_SNAPSHOT, VERIFY_SNAPSHOT, DELETE_SNAPSHOT) this event answers; null for work nobody requested (schedule, retention).
   * Default for readers of older data: `null`.
   */
  requestId: string | null;
  /** When the event happened. */
  at: Date;
}

/** Every record on the bus, by Avro full name. */
export interface RecordTypes {
  'tidemark.alerts.AlertRaised': AlertRaised;
  'tidemark.audit.AuditEvent': AuditEvent;
  'tidemark.commands.JobCommand': JobCommand;
  'tidemark.phases.PhaseChanged': PhaseChanged;
  'tidemark.restores.RestoreEvent': RestoreEvent;
  'tidemark.slices.SliceProduced': SliceProduced;
  'tidemark.slices.SliceStored': SliceStored;
  'tidemark.snapshots.SnapshotEvent': SnapshotEvent;
}

/** Avro full name of a record on the bus. */
export type RecordName = keyof RecordTypes;

/** Version and CRC-64-AVRO fingerprint (hex) of each record's current schema when this file was generated. */
export const CURRENT_SCHEMAS: {
  readonly [N in RecordName]: { readonly version: number; readonly fingerprint: string };
} = {
  'tidemark.alerts.AlertRaised': { version: 2, fingerprint: '5a46e2bcd0ea66e1' },
  'tidemark.audit.AuditEvent': { version: 1, fingerprint: '45d2e5170cd4aa34' },
  'tidemark.commands.JobCommand': { version: 2, fingerprint: '871fef96df38a5d1' },
  'tidemark.phases.PhaseChanged': { version: 1, fingerprint: '3308c64fa846cc87' },
  'tidemark.restores.RestoreEvent': { version: 1, fingerprint: 'e685a74f8955ef33' },
  'tidemark.slices.SliceProduced': { version: 1, fingerprint: '1075fa1e1c881cb1' },
  'tidemark.slices.SliceStored': { version: 1, fingerprint: '2468b19ff04083c5' },
  'tidemark.snapshots.SnapshotEvent': { version: 1, fingerprint: '2de993a90e35ed26' },
};
