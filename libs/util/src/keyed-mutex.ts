/**
 * `KeyedMutex`: runs async critical sections one at a time per key, in the order they asked, within this process.
 * Sections of different keys run concurrently. A section that throws releases the key like one that returns.
 * Keys nobody waits on are forgotten, so memory follows the keys in use, not every key ever seen.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `section` once every earlier section of `key` has settled; resolves or rejects as it does. */
  async run<T>(key: string, section: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    await before;
    try {
      return await section();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Keys with a section running or waiting (for specs and health). */
  get busyKeys(): number {
    return this.tails.size;
  }
}
