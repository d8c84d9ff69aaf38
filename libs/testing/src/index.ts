export * from './servers/infra';
export * from './servers/layout';
export { SERVER_VERSIONS } from './servers/versions';
export { isAlive, startDetached, stopProcess, waitFor, tail, type StartedProcess } from './servers/process';
export * from './names';
