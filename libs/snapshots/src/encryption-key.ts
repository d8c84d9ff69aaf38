/**
 * Loading the block encryption key: 32 bytes, base64-encoded, from an environment variable or a file. Errors name the
 * source and the problem and never include the key, any part of it, or the file's content.
 */
import { readFile } from 'node:fs/promises';
import { keyFingerprint, type EncryptionKey } from './block-codec';
import { EncryptionKeyError } from './snapshot-errors';

export const ENCRYPTION_KEY_BYTES = 32;

/** Where the key comes from: exactly one of `env` (a variable's name) or `file` (a path). */
export interface EncryptionKeySource {
  readonly env?: string;
  readonly file?: string;
  /** The key's id as the manifest records it; by default its fingerprint ({@link keyFingerprint}). */
  readonly keyId?: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes base64 text into a key, or throws naming `where` (never the text). */
export function parseEncryptionKey(text: string, where: string, keyId?: string): EncryptionKey {
  const trimmed = text.trim();
  if (trimmed === '') throw new EncryptionKeyError(`encryption key from ${where} is empty`);
  if (!BASE64.test(trimmed)) {
    throw new EncryptionKeyError(
      `encryption key from ${where} is not valid base64 (standard alphabet, padded)`,
    );
  }
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== ENCRYPTION_KEY_BYTES) {
    throw new EncryptionKeyError(
      `encryption key from ${where} decodes to ${key.length} bytes; AES-256 needs ${ENCRYPTION_KEY_BYTES} ` +
        `(make one with: openssl rand -base64 32)`,
    );
  }
  if (keyId !== undefined && !/^[A-Za-z0-9._:-]{1,100}$/.test(keyId)) {
    throw new EncryptionKeyError(
      `encryption key id for ${where} must be 1-100 characters of A-Z a-z 0-9 . _ : -`,
    );
  }
  return { keyId: keyId ?? keyFingerprint(key), key };
}

/** Loads the key from the environment variable or file the source names. */
export async function loadEncryptionKey(
  source: EncryptionKeySource,
  env: NodeJS.ProcessEnv = process.env,
): Promise<EncryptionKey> {
  if ((source.env === undefined) === (source.file === undefined)) {
    throw new EncryptionKeyError(
      'name exactly one source for the encryption key: an environment variable or a file',
    );
  }
  if (source.env !== undefined) {
    const value = env[source.env];
    if (value === undefined) throw new EncryptionKeyError(`environment variable ${source.env} is not set`);
    return parseEncryptionKey(value, `environment variable ${source.env}`, source.keyId);
  }
  const file = source.file as string;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    // The cause is only the file system's error (a path and a code), never content.
    throw new EncryptionKeyError(`cannot read encryption key file ${file}: ${code}`, { cause: err });
  }
  return parseEncryptionKey(text, `file ${file}`, source.keyId);
}
