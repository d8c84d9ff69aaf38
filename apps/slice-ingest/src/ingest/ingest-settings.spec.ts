import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SLICE_LIMITS } from '@tidemark/domain';
import { loadIngestSettings } from './ingest-settings';

describe('loadIngestSettings', () => {
  it('defaults: tidemark_oplogstore, 2 partitions at once, 1 s to 30 s backoff, the domain limits', () => {
    assert.deepEqual(loadIngestSettings({}), {
      oplogStoreDb: 'tidemark_oplogstore',
      concurrency: 2,
      retryInitialMs: 1_000,
      retryMaxMs: 30_000,
      limits: DEFAULT_SLICE_LIMITS,
    });
  });

  it('reads every variable', () => {
    const s = loadIngestSettings({
      TIDEMARK_OPLOG_STORE_DB: 'store_it_1',
      TIDEMARK_INGEST_CONCURRENCY: '6',
      TIDEMARK_INGEST_RETRY_INITIAL_MS: '50',
      TIDEMARK_INGEST_RETRY_MAX_MS: '500',
      TIDEMARK_SLICE_MAX_BYTES: String(4 * 1024 * 1024),
      TIDEMARK_SLICE_MAX_RAW_BYTES: String(64 * 1024 * 1024),
    });
    assert.equal(s.oplogStoreDb, 'store_it_1');
    assert.equal(s.concurrency, 6);
    assert.deepEqual([s.retryInitialMs, s.retryMaxMs], [50, 500]);
    assert.deepEqual(s.limits, {
      targetSliceBytes: 4 * 1024 * 1024,
      maxSliceBytes: 4 * 1024 * 1024,
      maxRawBytes: 64 * 1024 * 1024,
    });
  });

  it('names the variable it refuses', () => {
    assert.throws(() => loadIngestSettings({ TIDEMARK_OPLOG_STORE_DB: 'a.b' }), /TIDEMARK_OPLOG_STORE_DB/);
    assert.throws(
      () => loadIngestSettings({ TIDEMARK_INGEST_CONCURRENCY: '0' }),
      /TIDEMARK_INGEST_CONCURRENCY/,
    );
    assert.throws(
      () => loadIngestSettings({ TIDEMARK_SLICE_MAX_BYTES: String(DEFAULT_SLICE_LIMITS.maxSliceBytes + 1) }),
      /TIDEMARK_SLICE_MAX_BYTES/,
    );
    assert.throws(
      () =>
        loadIngestSettings({
          TIDEMARK_INGEST_RETRY_INITIAL_MS: '2000',
          TIDEMARK_INGEST_RETRY_MAX_MS: '1000',
        }),
      /TIDEMARK_INGEST_RETRY_MAX_MS/,
    );
  });
});
