/**
 * @tidemark/domain: Tidemark's vocabulary as pure TypeScript (no I/O): errors, oplog positions, the job state
 * machine, initial-sync phases and phase reports, backup jobs and namespace filters, the job's read limit, slice
 * metadata rules, alerts, snapshot events, stored-format versions, and the ports several features share (`ports/`).
 */
export * from './errors';
export * from './format-version';
export * from './op-time';
export * from './job-state';
export * from './phase';
export * from './phase-report';
export * from './namespace';
export * from './job';
export * from './snapshot-schedule';
export * from './read-limit';
export * from './slice';
export * from './ports/oplog-store';
export * from './head';
export * from './ports/head-store';
export * from './ports/apply-target';
export * from './ports/oplog-batch';
export * from './ports/phase-reporter';
export * from './ports/stage-metrics';
export * from './alert';
export * from './snapshot-event';
export * from './ports/snapshot-event-publisher';
export * from './restore-event';
export * from './ports/restore-event-publisher';
export * from './audit-event';
export * from './ports/audit-event-publisher';
export * from './snapshot-id';
export * from './restorable-window';
