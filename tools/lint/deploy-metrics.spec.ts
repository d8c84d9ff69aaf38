/**
 * The deployment's metrics wiring, checked offline: every Deployment in `deploy/k8s/base/` annotates its pods for
 * Prometheus (`prometheus.io/scrape`, `prometheus.io/port`, `prometheus.io/path: /metrics`) on the port its
 * container declares and listens on (`PORT`), and every metric the alerting rules (`deploy/prometheus/`) use is one
 * the services declare (`METRIC_NAMES` of @tidemark/service-shell). That each also appears in a real scrape is
 * `libs/service-shell/test/metrics.int-spec.ts`; that promtool accepts the rules is `alert-rules.int-spec.ts`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_PORTS, METRIC_NAMES, SERVICE_NAMES } from '@tidemark/service-shell';
import { alertRuleMetricNames } from '@tidemark/testing';

const K8S = path.resolve(__dirname, '..', '..', 'deploy', 'k8s', 'base');

/** The first match of `re` in `text`, group 1; fails the test when absent. */
function field(text: string, re: RegExp, what: string): string {
  const m = re.exec(text);
  assert.ok(m !== null, `${what} not found`);
  return m[1]!;
}

describe('deploy: metrics', () => {
  for (const service of SERVICE_NAMES) {
    it(`${service}: pods annotated for scraping /metrics on the container's port`, () => {
      const text = fs.readFileSync(path.join(K8S, `${service}.yaml`), 'utf8');
      const template = text.slice(text.indexOf('  template:'));
      const what = (s: string) => `${service}.yaml: ${s}`;
      assert.equal(field(template, /prometheus\.io\/scrape: '([^']*)'/, what('scrape annotation')), 'true');
      const port = Number(field(template, /prometheus\.io\/port: '(\d+)'/, what('port annotation')));
      assert.equal(field(template, /prometheus\.io\/path: (\S+)/, what('path annotation')), '/metrics');
      assert.equal(Number(field(template, /containerPort: (\d+)/, what('containerPort'))), port);
      assert.equal(Number(field(template, /name: PORT\s+value: '(\d+)'/, what('PORT env'))), port);
      assert.equal(port, DEFAULT_PORTS[service]);
    });
  }

  it('the alerting rules use only metrics the services declare', () => {
    const used = alertRuleMetricNames();
    assert.ok(used.length >= 4, `metric names found in the rules: ${used.join(', ')}`);
    const declared = new Set<string>(Object.values(METRIC_NAMES));
    assert.deepEqual(
      used.filter((n) => !declared.has(n)),
      [],
      'undeclared metrics in deploy/prometheus/tidemark-alerts.yml',
    );
  });
});
