/**
 * @tidemark/jobs (type:feature): backup jobs, as job-state owns them. Creating a job, the user's actions through
 * the domain's state machine (with the commands they send, through an outbox), changing its settings (the read
 * limit), folding what the pipeline reports (phases, alerts) into the job, the alert lifecycle (alerts that open
 * and close: `alert-lifecycle.ts`, `alert-store.ts`, `alert-service.ts`), and the JSON views of the REST API
 * (docs/api.md). Works through ports only: a `JobRepository`, a `CommandPublisher` and the job's `JobBackupData`;
 * in-memory implementations are included.
 */
export * from './job-record';
export * from './messages';
export * from './job-errors';
export * from './ports';
export * from './job-id';
export * from './api-schemas';
export * from './create-job-input';
export * from './job-settings';
export * from './job-actions';
export * from './phase-fold';
export * from './alert-fold';
export * from './alert-lifecycle';
export * from './alert-store';
export * from './alert-service';
export * from './alert-query';
export * from './job-counts';
export * from './views';
export * from './job-service';
export * from './memory-job-repository';
export * from './memory-command-publisher';
export * from './memory-backup-data';
export * from './store-backup-data';
export * from './snapshot-catalog';
export * from './retained';
export * from './capture-report';
export * from './memory-snapshot-catalog';
export * from './restore-catalog';
export * from './restore-input';
export * from './restore-service';
export * from './memory-restore-catalog';
export * from './project-view';
export * from './project-feed';
