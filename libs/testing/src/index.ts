export * from './servers/infra';
export * from './servers/layout';
export { SERVER_VERSIONS } from './servers/versions';
export { isAlive, startDetached, stopProcess, waitFor, tail, type StartedProcess } from './servers/process';
export * from './names';
export * from './e2e/source-data';
export * from './e2e/compare';
export * from './e2e/stack';
export * from './servers/scratch-ferretdb';
