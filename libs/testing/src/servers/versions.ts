/** Versions of the servers the project starts for its own runs; one place, so an upgrade is one line. */
export const SERVER_VERSIONS = {
  /** Apache Kafka (Apache-2.0), KRaft single node, from Maven Central. kafkajs 2.2.4 is verified against it. */
  kafka: '3.9.1',
  /** FerretDB (Apache-2.0), MongoDB wire protocol on SQLite, from the Go module proxy. */
  ferretdb: 'v1.24.2',
  /** moto's S3 server (Apache-2.0), from PyPI. */
  moto: '5.2.5',
  /** pymongo (Apache-2.0), from PyPI: its `bson` package decodes dumps in the independent dump checker. */
  pymongo: '4.20.0',
  /** schemathesis (MIT), from PyPI: property-based tests of job-state against its served OpenAPI document. */
  schemathesis: '4.32.5',
  /** Prometheus (Apache-2.0): its `promtool` checks and unit-tests `deploy/prometheus/` rules; Go module proxy. */
  prometheus: 'v0.316.0',
} as const;
