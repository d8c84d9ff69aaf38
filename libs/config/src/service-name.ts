/**
 * The six Tidemark services and their default HTTP ports (health probes, and job-state's REST API).
 * Declared once here (re-exported by @tidemark/shell and @tidemark/testing); Dockerfiles, Kubernetes manifests
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
