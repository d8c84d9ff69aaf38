import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentConfigError, agentSettingsFromEnv, DEFAULT_AGENT_SETTINGS } from './agent-settings';

describe('agentSettingsFromEnv', () => {
  it('uses the defaults: concurrency 2, 10 MiB gzip slices, 1 s oplog flush', () => {
    const s = agentSettingsFromEnv({});
    assert.deepEqual(s, DEFAULT_AGENT_SETTINGS);
    assert.equal(s.scanConcurrency, 2);
    assert.equal(s.sliceTargetBytes, 10 * 1024 * 1024);
    assert.equal(s.codec, 'gzip');
    assert.equal(s.oplogFlushMs, 1000);
  });

  it('reads the variables', () => {
    const s = agentSettingsFromEnv({
      TIDEMARK_AGENT_SCAN_CONCURRENCY: '4',
      TIDEMARK_SLICE_TARGET_BYTES: '65536',
      TIDEMARK_OPLOG_FLUSH_MS: '250',
      TIDEMARK_AGENT_SETTINGS_POLL_MS: '500',
    });
    assert.equal(s.settingsPollMs, 500);
    assert.equal(DEFAULT_AGENT_SETTINGS.settingsPollMs, 5000);
    assert.equal(s.scanConcurrency, 4);
    assert.equal(s.sliceTargetBytes, 65536);
    assert.equal(s.oplogFlushMs, 250);
  });

  it('rejects unusable values, naming the variable', () => {
    assert.throws(() => agentSettingsFromEnv({ TIDEMARK_AGENT_SCAN_CONCURRENCY: '0' }), AgentConfigError);
    assert.throws(
      () => agentSettingsFromEnv({ TIDEMARK_SLICE_TARGET_BYTES: String(64 * 1024 * 1024) }),
      /TIDEMARK_SLICE_TARGET_BYTES/,
    );
    assert.throws(() => agentSettingsFromEnv({ TIDEMARK_OPLOG_FLUSH_MS: 'soon' }), /TIDEMARK_OPLOG_FLUSH_MS/);
    assert.throws(
      () => agentSettingsFromEnv({ TIDEMARK_AGENT_SETTINGS_POLL_MS: '10' }),
      /TIDEMARK_AGENT_SETTINGS_POLL_MS must be an integer in \[100, 3600000\]/,
    );
  });
});
