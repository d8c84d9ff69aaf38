import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StoreKind } from '@tidemark/snapshots';
import { createSnapshotStore } from './create-snapshot-store';
import { FileSystemSnapshotStore } from './filesystem-snapshot-store';

describe('createSnapshotStore', () => {
  it('builds the filesystem store', async () => {
    const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'tidemark-factory-'));
    try {
      const store = await createSnapshotStore('filesystem', { filesystem: { root } });
      assert.ok(store instanceof FileSystemSnapshotStore);
      assert.equal(store.kind, 'filesystem');
    } finally {
      await fsp.rm(root, { recursive: true, force: true });
    }
  });

  it('names what a kind lacks, and refuses an unknown kind', async () => {
    await assert.rejects(createSnapshotStore('filesystem', {}), /needs deps\.filesystem\.root/);
    await assert.rejects(
      createSnapshotStore('blockstore', {}),
      /blockstore snapshot store needs deps\.mongo/,
    );
    await assert.rejects(createSnapshotStore('s3', {}), /s3 snapshot store needs deps\.mongo/);
    await assert.rejects(createSnapshotStore('tape' as StoreKind, {}), /unknown snapshot store kind "tape"/);
  });
});
