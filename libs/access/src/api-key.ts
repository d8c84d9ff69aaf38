/**
 * API keys: `tmk_<id>_<secret>`, where `<id>` is 12 lowercase hex characters (public: it names the key in lists,
 * logs and the revoke command) and `<secret>` is 32 bytes from the CSPRNG (`crypto.randomBytes`, 256 bits) in
 * base64url (43 characters). The key is shown once, at creation; the store keeps only the id, a random 16-byte salt
 * and scrypt(secret, salt) (N 2^14, r 8, p 1, 32 bytes), so a copy of the store does not give the keys away.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const API_KEY_PREFIX = 'tmk_';
const KEY_PATTERN = /^tmk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const SECRET_BYTES = 32;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const SCRYPT_OPTIONS: ScryptOptions = { N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export interface GeneratedKey {
  readonly id: string;
  /** The whole key, to show once. */
  readonly token: string;
  readonly secret: string;
}

export function generateApiKey(): GeneratedKey {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { id, secret, token: `${API_KEY_PREFIX}${id}_${secret}` };
}

/** The id and secret of a well-formed key; undefined for anything else. */
export function parseApiKey(token: string): { id: string; secret: string } | undefined {
  const m = KEY_PATTERN.exec(token);
  return m === null ? undefined : { id: m[1]!, secret: m[2]! };
}

/** What a key's display shows: `tmk_<id>_`, the part that is not secret. */
export function apiKeyPrefix(id: string): string {
  return `${API_KEY_PREFIX}${id}_`;
}

/** The stored form of a secret: hex salt and hex scrypt hash. */
export interface SecretHash {
  readonly salt: string;
  readonly hash: string;
}

function scryptHex(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, HASH_BYTES, SCRYPT_OPTIONS, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashSecret(
  secret: string,
  salt: Buffer = randomBytes(SALT_BYTES),
): Promise<SecretHash> {
  return { salt: salt.toString('hex'), hash: (await scryptHex(secret, salt)).toString('hex') };
}

/** Whether `secret` hashes to `stored`, compared in constant time. */
export async function verifySecret(secret: string, stored: SecretHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'hex');
  const actual = await scryptHex(secret, Buffer.from(stored.salt, 'hex'));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The key id an `Authorization: Bearer tmk_<id>_<secret>` header names (known or not), else undefined. */
export function claimedKeyId(authorization: string | undefined): string | undefined {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
  return m === null ? undefined : parseApiKey(m[1]!)?.id;
}
