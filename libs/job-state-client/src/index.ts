/**
 * @tidemark/job-state-client (type:adapter): job-state's REST API over HTTP, as the agent's `JobStateClient` port
 * (`@tidemark/capture`) says it is used.
 */
export * from './http-job-state-client';
