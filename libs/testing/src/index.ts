export * from './servers/infra';
export * from './servers/layout';
export { SERVER_VERSIONS } from './servers/versions';
export { ensureAuditConsumerPython, ensureDumpCheckPython, ensureSchemathesis } from './servers/python-venv';
export { isAlive, startDetached, stopProcess, waitFor, tail, type StartedProcess } from './servers/process';
export * from './names';
export * from './scratch-databases';
export * from './e2e/source-data';
export * from './e2e/compare';
export * from './e2e/stack';
export * from './e2e/test-source';
export * from './servers/scratch-ferretdb';
export * from './servers/containers';
export {
  ensureFerretdb,
  externalSourceUri,
  ferretdbBackend,
  localFerretdbBackend,
  FERRETDB_BACKENDS,
  FERRETDB_STABILITY_DELAY_BY_BACKEND,
  standInTailEnv,
  type FerretdbBackend,
} from './servers/ferretdb';
export * from './fixtures/slices';
export * from './fixtures/oplog-entries';
export * from './until';
export * from './http';
export * from './credentials';
export { ensurePromtool, promtoolBinary } from './servers/promtool';
export { ensureK8sCheck, k8sCheckBinary, k8sCheckPaths } from './servers/k8s-check';
export * from './prometheus-rules';
export * from './metrics-scrape';
export { postgresBinDir } from './servers/postgresql';
export * from './service-process';
