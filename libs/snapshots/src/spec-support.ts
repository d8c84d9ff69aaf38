/** Helpers for this library's specs (not exported from the index). */
import { createHash } from 'node:crypto';

/** A raw BSON document `{ _id: <int32>, s: <string> }`, built by hand (the library has no BSON dependency). */
export function bsonDoc(id: number, text: string): Uint8Array {
  const str = Buffer.from(`${text}\0`, 'utf8');
  const size = 4 + (1 + 4 + 4) + (1 + 2 + 4 + str.length) + 1;
  const out = Buffer.alloc(size);
  let at = out.writeInt32LE(size, 0);
  at = out.writeUInt8(0x10, at);
  at += out.write('_id\0', at, 'latin1');
  at = out.writeInt32LE(id, at);
  at = out.writeUInt8(0x02, at);
  at += out.write('s\0', at, 'latin1');
  at = out.writeInt32LE(str.length, at);
  at += str.copy(out, at);
  out.writeUInt8(0, at);
  return out;
}

/** `count` documents with pseudo-random text of about `bytes` each (deterministic per seed). */
export function bsonDocs(count: number, bytes: number, seed = 'seed', firstId = 0): Uint8Array[] {
  const docs: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    let text = '';
    for (let n = 0; text.length < bytes; n++) {
      text += createHash('sha256')
        .update(`${seed}:${firstId + k}:${n}`)
        .digest('base64');
    }
    docs.push(bsonDoc(firstId + k, text.slice(0, bytes)));
  }
  return docs;
}

export function sha256(data: Uint8Array | Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const part of Array.isArray(data) ? data : [data]) hash.update(part);
  return hash.digest('hex');
}
