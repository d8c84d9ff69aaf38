/**
 * job-state's two credentials, from the environment or a mounted file, never from a default:
 *
 * | variable                                                   | what                                            |
 * | ---------------------------------------------------------- | ----------------------------------------------- |
 * | `TIDEMARK_ADMIN_KEY` or `TIDEMARK_ADMIN_KEY_FILE`          | the bootstrap admin key (all projects, all keys) |
 * | `TIDEMARK_SERVICE_TOKEN` or `TIDEMARK_SERVICE_TOKEN_FILE`  | what the services send on their own routes      |
 *
 * Each is at least 32 characters (surrounding whitespace of a file is trimmed), set one way only, and the two
 * differ. A problem is an {@link AccessConfigError} naming the variables, never quoting a value.
 */
import { readFileSync } from 'node:fs';
import { AccessConfigError } from './access-errors';

export const MIN_CREDENTIAL_LENGTH = 32;

export const CREDENTIAL_ENV = {
  adminKey: { value: 'TIDEMARK_ADMIN_KEY', file: 'TIDEMARK_ADMIN_KEY_FILE' },
  serviceToken: { value: 'TIDEMARK_SERVICE_TOKEN', file: 'TIDEMARK_SERVICE_TOKEN_FILE' },
  apiKey: { value: 'TIDEMARK_API_KEY', file: 'TIDEMARK_API_KEY_FILE' },
} as const;

type ReadFile = (path: string) => string;
const readText: ReadFile = (path) => readFileSync(path, 'utf8');

/**
 * The secret named by `vars`: its value, or the trimmed contents of its file; undefined when neither is set. Throws
 * {@link AccessConfigError} when both are set, the file cannot be read, or the secret is shorter than 32.
 */
export function secretFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  vars: { readonly value: string; readonly file: string },
  readFile: ReadFile = readText,
): string | undefined {
  const inline = env[vars.value];
  const file = env[vars.file];
  if (inline !== undefined && inline !== '' && file !== undefined && file !== '')
    throw new AccessConfigError(`set ${vars.value} or ${vars.file}, not both`);
  let secret: string | undefined;
  if (file !== undefined && file !== '') {
    try {
      secret = readFile(file).trim();
    } catch (err) {
      throw new AccessConfigError(`${vars.file}: cannot read ${file}: ${(err as Error).message}`);
    }
  } else if (inline !== undefined && inline !== '') secret = inline;
  if (secret === undefined) return undefined;
  if (secret.length < MIN_CREDENTIAL_LENGTH)
    throw new AccessConfigError(
      `${file ? vars.file : vars.value} must hold at least ${MIN_CREDENTIAL_LENGTH} characters, got ${secret.length}`,
    );
  return secret;
}

function required(
  env: Readonly<Record<string, string | undefined>>,
  vars: { readonly value: string; readonly file: string },
  what: string,
  who: string,
  readFile: ReadFile,
): string {
  const secret = secretFromEnv(env, vars, readFile);
  if (secret === undefined)
    throw new AccessConfigError(
      `${who} needs ${what}: set ${vars.value} or ${vars.file} (at least ${MIN_CREDENTIAL_LENGTH} characters); ` +
        'there is no default',
    );
  return secret;
}

/** job-state's admin key and service token; throws {@link AccessConfigError} when either is missing or unusable. */
export function accessCredentialsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  readFile: ReadFile = readText,
): { adminKey: string; serviceToken: string } {
  const adminKey = required(env, CREDENTIAL_ENV.adminKey, 'the bootstrap admin key', 'job-state', readFile);
  const serviceToken = required(env, CREDENTIAL_ENV.serviceToken, 'the service token', 'job-state', readFile);
  if (adminKey === serviceToken)
    throw new AccessConfigError(
      `${CREDENTIAL_ENV.adminKey.value} and ${CREDENTIAL_ENV.serviceToken.value} must differ`,
    );
  return { adminKey, serviceToken };
}

/** The services' token (the agent sends it to job-state); throws when missing or unusable. */
export function serviceTokenFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  who: string,
  readFile: ReadFile = readText,
): string {
  return required(env, CREDENTIAL_ENV.serviceToken, 'the service token', who, readFile);
}
