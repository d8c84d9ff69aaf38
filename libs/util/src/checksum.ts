/**
 * SHA-256 checksums, as lowercase hex: the form slice metadata, blocks and manifests carry (checkable with
 * `sha256sum`).
 */
import { createHash, type Hash } from 'node:crypto';

/** SHA-256 of one buffer, or of several buffers concatenated in order, as 64 lowercase hex digits. */
export function sha256Hex(data: Uint8Array | readonly Uint8Array[]): string {
  const hash = new Sha256();
  if (data instanceof Uint8Array) hash.update(data);
  else for (const chunk of data) hash.update(chunk);
  return hash.digestHex();
}

/**
 * A streaming SHA-256: feed chunks with {@link update}, read the result once with {@link digestHex}.
 * Using it after the digest throws, so a half-reused hasher cannot produce a wrong checksum silently.
 */
export class Sha256 {
  private readonly hash: Hash = createHash('sha256');
  private finished = false;
  private total = 0;

  /** Adds a chunk. Returns this, for chaining. */
  update(chunk: Uint8Array): this {
    if (this.finished) throw new Error('Sha256: update() after digestHex()');
    this.hash.update(chunk);
    this.total += chunk.byteLength;
    return this;
  }

  /** Bytes hashed so far. */
  get byteLength(): number {
    return this.total;
  }

  /** The digest as 64 lowercase hex digits. Callable once. */
  digestHex(): string {
    if (this.finished) throw new Error('Sha256: digestHex() called twice');
    this.finished = true;
    return this.hash.digest('hex');
  }
}
