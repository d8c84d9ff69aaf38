/**
 * A scratch server whose test runner is killed before `stop()` is stopped and deleted by the next sweep (which
 * `infra up`, `infra down` and every new scratch server run), and one whose runner still runs is left alone.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { layout } from './layout';
import { isAlive } from './process';
import {
  scratchDirectories,
  startScratchFerretdb,
  sweepScratchServers,
  type ScratchRecord,
} from './scratch-ferretdb';

/** The scratch directories (and their records) that `owner` started. */
function startedBy(owner: number): { dir: string; record: ScratchRecord }[] {
  return scratchDirectories().flatMap(({ dir, record }) =>
    record?.owner === owner ? [{ dir, record }] : [],
  );
}

describe('scratch FerretDB sweep', () => {
  it('stops and deletes the servers of a runner killed before stop(); keeps those of a live one', async () => {
    const mine = await startScratchFerretdb({ name: 'sweep-live', oplogBytes: 64 * 1024 });
    const script = [
      "const { startScratchFerretdb } = require('./libs/testing/src/servers/scratch-ferretdb');",
      "startScratchFerretdb({ name: 'sweep-orphan', oplogBytes: 64 * 1024 })",
      "  .then(() => console.log('up'), (err) => { console.error(err); process.exit(1); });",
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: layout().root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (b: Buffer) => b.toString().includes('up') && resolve());
        child.once('exit', (code) =>
          reject(new Error(`the runner exited (${code}) before its server was up`)),
        );
      });
      const [orphan] = startedBy(child.pid!);
      assert.ok(orphan, 'the runner recorded its server');
      assert.ok(orphan.record.processes.length >= 1);
      for (const p of orphan.record.processes) assert.ok(isAlive(p.pid, p.marker), `${p.name} runs`);

      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      for (const p of orphan.record.processes)
        assert.ok(isAlive(p.pid, p.marker), `${p.name} outlives its runner`);

      assert.ok((await sweepScratchServers()) >= 1);
      for (const p of orphan.record.processes)
        assert.equal(isAlive(p.pid, p.marker), false, `${p.name} stopped`);
      assert.equal(fs.existsSync(orphan.dir), false, 'its directory is deleted');
      for (const p of orphan.record.paths) assert.equal(fs.existsSync(p), false, `${p} is deleted`);

      const [live] = startedBy(process.pid);
      assert.ok(live, "this runner's own server is still recorded");
      for (const p of live.record.processes)
        assert.ok(isAlive(p.pid, p.marker), `${p.name} of a live runner runs`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await mine.stop();
    }
  });
});
