/**
 * Tidemark's Prometheus alerting rules (`deploy/prometheus/`), for the specs that check them: the files' paths and
 * the metric names the rules' expressions use.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** The rule file and its promtool unit tests. */
export const ALERT_RULES = {
  rules: path.join(ROOT, 'deploy', 'prometheus', 'tidemark-alerts.yml'),
  tests: path.join(ROOT, 'deploy', 'prometheus', 'tidemark-alerts.test.yml'),
} as const;

/** The `tidemark_*` metric names the rules' `expr:` blocks use, sorted, each once. */
export function alertRuleMetricNames(file: string = ALERT_RULES.rules): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const names = new Set<string>();
  // An expr is `expr: <one line>` or `expr: |` followed by lines indented deeper than the key.
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const m = /^(\s*)(?:- )?expr:\s*(.*)$/.exec(lines[k]!);
    if (m === null) continue;
    const indent = m[1]!.length;
    const body = [m[2]!];
    if (m[2] === '|' || m[2] === '>') {
      while (k + 1 < lines.length && (lines[k + 1]!.trim() === '' || indentOf(lines[k + 1]!) > indent)) {
        body.push(lines[++k]!);
      }
    }
    for (const name of body.join('\n').match(/\btidemark_[a-z0-9_]+/g) ?? []) names.add(name);
  }
  return [...names].sort();
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}
