/**
 * Durable file writes on a local filesystem: a file is written under a temporary name, fsynced, then given its
 * name with `rename(2)`, and its directory is fsynced, so after a crash the name holds either the old content or
 * the whole new one, never a torn write.
 */
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** Makes a directory's entries (names created, renamed or removed in it) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `bytes` to `file` whole: to `temp` (default `<file>.partial`), fsynced, renamed to `file` (replacing what
 * was there), the directory fsynced. A failure before the rename leaves `file` untouched and removes `temp`.
 */
export async function writeFileDurably(
  file: string,
  bytes: Uint8Array,
  temp = `${file}.partial`,
): Promise<void> {
  const fh = await fsp.open(temp, 'w');
  try {
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(temp, file);
  } catch (err) {
    await fsp.rm(temp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(file));
}
