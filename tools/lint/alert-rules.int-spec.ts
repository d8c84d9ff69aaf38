/**
 * `promtool check rules` accepts `deploy/prometheus/tidemark-alerts.yml`, and `promtool test rules` passes its unit
 * tests (`tidemark-alerts.test.yml`: each alert fires on the series it is meant for and stays quiet otherwise).
 * promtool is built from the Go module proxy into the cache on first use (`ensurePromtool` of @tidemark/testing,
 * about 2 minutes on two cores), like FerretDB. An integration spec: it needs the module proxy the first time.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ALERT_RULES, ensurePromtool, layout } from '@tidemark/testing';

const run = promisify(execFile);

describe('deploy/prometheus alerting rules', { timeout: 30 * 60_000 }, () => {
  let promtool: string;

  before(async () => {
    promtool = await ensurePromtool(layout(), (m) => console.log(m));
  });

  it('promtool check rules accepts the rule file', async () => {
    const { stdout } = await run(promtool, ['check', 'rules', ALERT_RULES.rules]);
    assert.match(stdout, /SUCCESS: 6 rules found/);
  });

  it('promtool test rules passes the rules unit tests', async () => {
    const { stdout } = await run(promtool, ['test', 'rules', path.basename(ALERT_RULES.tests)], {
      cwd: path.dirname(ALERT_RULES.tests),
    });
    assert.match(stdout, /SUCCESS/);
  });

  it('promtool check rules rejects a rule on an invalid expression (the check can fail)', async () => {
    const bad = path.join(layout().cache, 'tidemark-alerts.bad.yml');
    writeFileSync(
      bad,
      'groups:\n  - name: bad\n    rules:\n      - alert: Bad\n        expr: max(tidemark_consumer_lag) >\n',
    );
    await assert.rejects(run(promtool, ['check', 'rules', bad]), /FAILED|error/i);
  });
});
