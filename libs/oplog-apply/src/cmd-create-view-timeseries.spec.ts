import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UnsupportedNamespaceError } from '@tidemark/domain';
import { OplogApplyError } from './errors';
import { loadFixture, outcomes, replay } from './spec-support';

describe('fixture cmd_create_view_timeseries', () => {
  const { entries } = loadFixture('cmd_create_view_timeseries');
  const expected: Array<[number, string, 'view' | 'timeseries']> = [
    [0, 'shop.recent', 'view'], // create with viewOn
    [1, 'shop.recent', 'view'], // insert into system.views
    [2, 'shop.weather', 'timeseries'], // create of system.buckets.weather
    [3, 'shop.weather', 'timeseries'], // its view, inserted into system.views
    [4, 'shop.weather', 'timeseries'], // create with timeseries options
    [5, 'shop.recent', 'view'], // update of the view's definition
    [6, 'shop.recent', 'view'], // delete of the view's definition
  ];
  for (const [index, ns, type] of expected) {
    it(`refuses entry ${index} (${type} ${ns}) when the job backs the namespace up, naming it and what to do`, async () => {
      await assert.rejects(replay([entries[index]!]), (err: unknown) => {
        assert.ok(err instanceof OplogApplyError, String(err));
        assert.ok(err.cause instanceof UnsupportedNamespaceError);
        assert.deepEqual(err.cause.namespaces, [{ ns, type }]);
        assert.equal(err.retriable, false);
        assert.match(err.message, /does not back up views or time-series collections/);
        assert.match(err.message, new RegExp(`exclude: \\["${ns}"\\]`));
        return true;
      });
    });
  }

  it('skips every entry when the job leaves shop.recent and shop.weather out, and creates nothing', async () => {
    const { target, results } = await replay(entries, {
      mapNamespace: (ns) => (ns === 'shop.recent' || ns === 'shop.weather' ? null : ns),
    });
    assert.deepEqual(outcomes(results), Array(entries.length).fill('skipped-namespace'));
    assert.deepEqual(target.namespaces(), []);
  });
});
