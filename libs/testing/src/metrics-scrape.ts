/**
 * Reading a service's `GET /metrics` in specs: the Prometheus text format as prom-client writes it (no timestamps),
 * parsed into samples, and sums over the samples whose labels include given ones.
 */
import assert from 'node:assert/strict';

export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of an exposition text; a line that is neither a comment nor a sample fails the spec. */
export function parseMetricsText(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m !== null, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** `GET <base>/metrics`: 200 in the Prometheus text format 0.0.4, parsed. */
export async function scrapeMetrics(base: string): Promise<MetricSample[]> {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  const contentType = res.headers.get('content-type') ?? '';
  assert.match(contentType, /^text\/plain;/);
  assert.match(contentType, /version=0\.0\.4/);
  return parseMetricsText(await res.text());
}

/** The samples named `name` whose labels include `labels`. */
export function findSamples(
  samples: readonly MetricSample[],
  name: string,
  labels: Record<string, string> = {},
): MetricSample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The sum of those samples (0 when there are none). */
export function sumSamples(
  samples: readonly MetricSample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  return findSamples(samples, name, labels).reduce((n, s) => n + s.value, 0);
}
