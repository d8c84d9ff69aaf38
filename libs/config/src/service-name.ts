/**
 * The six Tidemark services and their default HTTP ports (health probes, and job-state's REST API).
 * Declared once here (re-exported by @tidemark/service-shell and @tidemark/testing); Dockerfiles, Kubernetes manifests
 * and docs/services.md use the same numbers.
 */
export const SERVICE_NAMES = [
  'job-state',
  'agent',
  'slice-ingest',
  'head-builder',
  'oplog-applier',
  'snapshotter',
] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Default port per service; the `PORT` environment variable overrides it (0 picks a free port). */
export const DEFAULT_PORTS: Readonly<Record<ServiceName, number>> = Object.freeze({
  'job-state': 7100,
  agent: 7101,
  'slice-ingest': 7102,
  'head-builder': 7103,
  'oplog-applier': 7104,
  snapshotter: 7105,
});

/** The variable naming job-state's REST API for its clients (the agent, the CLI). */
export const API_URL_ENV = 'TIDEMARK_API_URL';

/** The default address of job-state's REST API: its default port on loopback. */
export const DEFAULT_API_URL = `http://127.0.0.1:${DEFAULT_PORTS['job-state']}`;

/**
 * job-state's REST API address from `TIDEMARK_API_URL` (default {@link DEFAULT_API_URL}), without trailing
 * slashes; `undefined` when the variable holds something other than an http(s) URL (callers raise their own error).
 */
export function jobStateApiUrl(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const url = (env[API_URL_ENV]?.trim() || DEFAULT_API_URL).replace(/\/+$/, '');
  return /^https?:\/\/[^/\s]+/.test(url) ? url : undefined;
}
