/**
 * Block compression off the event loop: a few worker threads that run zlib's one-shot calls (Brotli, gzip, zlib).
 *
 * Why not node:zlib's asynchronous calls: each builds a stream (a deflate state of about 256 KiB set up and torn
 * down, stream objects, a hop to the libuv pool), which for blocks of 4-32 KiB costs as much CPU again as the
 * compression itself: measured on the benchmark's documents, 31 ms of CPU per MB against 15 ms for the one-shot
 * `gzipSync`. And why not the one-shot call on the event loop: it would stall reading the head and the store's
 * calls, which share that thread (a take was then bound by it). A worker runs the one-shot call; the chunk is copied
 * to it and the compressed bytes are moved back (an exact-size buffer, transferred).
 *
 * A call may ask for a {@link Frame}: bytes to put before the compressed stream (a block's header) and its CRC-32
 * after it. The worker then answers with the framed bytes in one buffer, so the caller does not copy the stream
 * again to frame it (one buffer per block instead of three).
 *
 * What crosses between the threads (a chunk sent, an answer moved back) is freed only by a full collection, even when
 * it dies young (measured: `discardBuffer` of @tidemark/util). So the worker detaches what it was sent once it has
 * compressed it, and a caller that is done with an answer detaches it too (a snapshot does, once the store has the
 * block). The worker's copy of that check is in its source below, which cannot import.
 *
 * The workers start on first use and hold no reference to the process while none of their calls is pending, so an
 * idle pool never keeps a process alive. A worker that dies fails its pending calls (clear errors, nothing written)
 * and is replaced on the next call.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { TidemarkError } from '@tidemark/domain';

/** What a worker runs (CommonJS, evaluated): one zlib one-shot call per message. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
const discard = (view) => {
  const buffer = view.buffer;
  if (buffer instanceof ArrayBuffer && buffer.byteLength > 0 && view.byteOffset === 0 && view.byteLength === buffer.byteLength)
    structuredClone(buffer, { transfer: [buffer] });
};
parentPort.on('message', (m) => {
  try {
    const out =
      m.op === 'brotli'
        ? zlib.brotliCompressSync(m.bytes, {
            params: {
              [zlib.constants.BROTLI_PARAM_QUALITY]: m.level,
              [zlib.constants.BROTLI_PARAM_LGWIN]: m.window,
              [zlib.constants.BROTLI_PARAM_SIZE_HINT]: m.bytes.length,
            },
          })
        : m.op === 'gzip'
          ? zlib.gzipSync(m.bytes, { level: m.level })
          : zlib.deflateSync(m.bytes, { level: m.level, dictionary: m.dictionary });
    // zlib's answer can be a view on a larger buffer, which a message would copy whole: an exact-size buffer, with
    // the frame's prefix before the stream and its CRC-32 (little-endian) after it, is moved.
    const prefix = m.prefix === undefined ? 0 : m.prefix.length;
    const bytes = new Uint8Array(prefix + out.length + (m.crc ? 4 : 0));
    if (m.prefix !== undefined) bytes.set(m.prefix, 0);
    bytes.set(out, prefix);
    if (m.crc) new DataView(bytes.buffer).setUint32(prefix + out.length, zlib.crc32(out), true);
    parentPort.postMessage({ id: m.id, bytes }, [bytes.buffer]);
    // What a message brought is freed only by a full collection; detached, by the next young one.
    discard(m.bytes);
    if (m.dictionary !== undefined) discard(m.dictionary);
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
  }
});
`;

/** The workers' young generation (V8's default is 16 MiB or more per semi-space). */
const WORKER_YOUNG_GENERATION_MB = 4;

/** How a worker frames the compressed stream in its answer: `prefix`, then the stream, then (`crc`) its CRC-32. */
export interface Frame {
  readonly prefix?: Uint8Array;
  /** Append the CRC-32 (ISO-HDLC, as `zlib.crc32`) of the compressed stream, 4 bytes little-endian. */
  readonly crc?: boolean;
}

type Request = (
  | { op: 'brotli'; bytes: Uint8Array; level: number; window: number }
  | { op: 'gzip'; bytes: Uint8Array; level: number }
  | { op: 'deflate'; bytes: Uint8Array; level: number; dictionary: Uint8Array }
) &
  Frame;

interface Pending {
  resolve(bytes: Uint8Array): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** A compression worker failed or died; the block was not compressed (nothing was written). */
export class CompressionFailedError extends TidemarkError {
  override readonly name = 'CompressionFailedError';
  constructor(reason: string) {
    super(`block compression failed: ${reason}`, { retriable: true });
  }
}

export class CompressionWorkers {
  private readonly slots: Slot[] = [];
  private nextId = 0;

  /** `size` workers at most (default: one fewer than the machine's cores, 1 to 4). */
  constructor(readonly size = Math.max(1, Math.min(4, availableParallelism() - 1))) {
    if (!Number.isSafeInteger(size) || size < 1)
      throw new RangeError(`size must be an integer >= 1, got ${size}`);
  }

  /** Brotli (RFC 7932) of `plain` at quality `level`, with a window of 2^`window` - 16 bytes (10..24). */
  brotli(plain: Uint8Array, level: number, window: number, frame: Frame = {}): Promise<Uint8Array> {
    return this.run({ op: 'brotli', bytes: plain, level, window, ...frame });
  }

  /** gzip (RFC 1952) of `plain` at `level`. */
  gzip(plain: Uint8Array, level: number, frame: Frame = {}): Promise<Uint8Array> {
    return this.run({ op: 'gzip', bytes: plain, level, ...frame });
  }

  /** zlib (RFC 1950) of `plain` at `level`, with `dictionary` as preset dictionary. */
  deflate(plain: Uint8Array, level: number, dictionary: Uint8Array, frame: Frame = {}): Promise<Uint8Array> {
    return this.run({ op: 'deflate', bytes: plain, level, dictionary, ...frame });
  }

  /** Stops the workers; calls pending fail. */
  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
    for (const slot of slots) this.fail(slot, 'the compression workers were closed');
  }

  private run(request: Request): Promise<Uint8Array> {
    const slot = this.pick();
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      // A message copies a view's whole buffer (a pooled chunk's is larger than the chunk): only the view is sent.
      slot.worker.postMessage({ id, ...request, bytes: exact(request.bytes) });
    });
  }

  /** The worker with the fewest calls pending; a new one while there are fewer than `size` and all are busy. */
  private pick(): Slot {
    let best: Slot | undefined;
    for (const slot of this.slots)
      if (best === undefined || slot.pending.size < best.pending.size) best = slot;
    if (best !== undefined && (best.pending.size === 0 || this.slots.length >= this.size)) return best;
    return this.start();
  }

  private start(): Slot {
    // No execArgv: a worker needs no loader hooks or flags of the parent's (it runs the plain script above). A
    // small young generation: everything a call allocates is garbage when it answers, and collected soon, so the
    // worker's memory stays flat whatever the size of the snapshot.
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    const slot: Slot = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', (m: { id: number; bytes?: Uint8Array; error?: string }) => {
      const call = slot.pending.get(m.id);
      if (call === undefined) return;
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) worker.unref();
      if (m.bytes !== undefined) call.resolve(m.bytes);
      else call.reject(new CompressionFailedError(m.error ?? 'no result'));
    });
    const gone = (reason: string) => {
      const at = this.slots.indexOf(slot);
      if (at >= 0) this.slots.splice(at, 1);
      this.fail(slot, reason);
    };
    worker.on('error', (err) => gone(`worker error: ${err.message}`));
    worker.on('exit', (code) => gone(`worker exited with code ${code}`));
    this.slots.push(slot);
    return slot;
  }

  private fail(slot: Slot, reason: string): void {
    const calls = [...slot.pending.values()];
    slot.pending.clear();
    for (const call of calls) call.reject(new CompressionFailedError(reason));
  }
}

/** `bytes` itself when it spans its whole buffer, else a copy that does. */
function exact(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

let shared: CompressionWorkers | undefined;

/** The process's compression workers (started on first use). */
export function compressionWorkers(): CompressionWorkers {
  return (shared ??= new CompressionWorkers());
}
