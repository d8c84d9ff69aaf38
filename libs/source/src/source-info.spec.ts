/** How the tail reads each kind of server: `recommendedTailSettings`. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  FERRETDB_STABILITY_DELAY_ENV,
  FERRETDB_STABILITY_DELAY_MS,
  recommendedTailSettings,
} from './source-info';

describe('recommendedTailSettings', () => {
  it('MongoDB: one tailable cursor, no delay, whatever the FerretDB setting says', () => {
    assert.deepEqual(
      recommendedTailSettings({ flavor: 'mongodb' }, { [FERRETDB_STABILITY_DELAY_ENV]: '900' }),
      {
        mode: 'tailable',
        stabilityDelayMs: 0,
      },
    );
  });

  it('FerretDB: polls, with the safe delay unless the setting names another', () => {
    assert.deepEqual(recommendedTailSettings({ flavor: 'ferretdb' }, {}), {
      mode: 'poll',
      stabilityDelayMs: FERRETDB_STABILITY_DELAY_MS,
    });
    assert.equal(FERRETDB_STABILITY_DELAY_MS, 5_000);
    assert.deepEqual(
      recommendedTailSettings({ flavor: 'ferretdb' }, { [FERRETDB_STABILITY_DELAY_ENV]: '' }),
      {
        mode: 'poll',
        stabilityDelayMs: 5_000,
      },
    );
    assert.deepEqual(
      recommendedTailSettings({ flavor: 'ferretdb' }, { [FERRETDB_STABILITY_DELAY_ENV]: '1500' }),
      {
        mode: 'poll',
        stabilityDelayMs: 1_500,
      },
    );
  });

  it('refuses a setting that is not a whole number of milliseconds', () => {
    for (const bad of ['-1', '1.5', 'soon']) {
      assert.throws(
        () => recommendedTailSettings({ flavor: 'ferretdb' }, { [FERRETDB_STABILITY_DELAY_ENV]: bad }),
        /TIDEMARK_FERRETDB_STABILITY_DELAY_MS/,
      );
    }
  });
});
