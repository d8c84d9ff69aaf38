/**
 * A test run's credentials for job-state (docs/api.md, "Access"): a random admin key and service token, made once
 * per run and put into `process.env` (`TIDEMARK_ADMIN_KEY`, `TIDEMARK_SERVICE_TOKEN`, and `TIDEMARK_API_KEY` = the
 * admin key, which the `tidemark` CLI sends), so every service a spec starts and every CLI it runs inherits them.
 * `tidemark test` makes them before it starts the spec files; a spec file run on its own (`node --test`) gets them
 * when it imports this library. Values already in the environment are kept.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const TEST_CREDENTIAL_VARS = [
  'TIDEMARK_ADMIN_KEY',
  'TIDEMARK_SERVICE_TOKEN',
  'TIDEMARK_API_KEY',
] as const;

const isSet = (env: NodeJS.ProcessEnv, name: string) =>
  (env[name] ?? '') !== '' || (env[`${name}_FILE`] ?? '') !== '';

/** Fills in the run's admin key, service token and API key where `env` has none; returns `env`. */
export function ensureTestCredentials(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (!isSet(env, 'TIDEMARK_ADMIN_KEY'))
    env['TIDEMARK_ADMIN_KEY'] = `test-admin-${randomBytes(32).toString('hex')}`;
  if (!isSet(env, 'TIDEMARK_SERVICE_TOKEN'))
    env['TIDEMARK_SERVICE_TOKEN'] = `test-service-${randomBytes(32).toString('hex')}`;
  if (!isSet(env, 'TIDEMARK_API_KEY')) {
    if ((env['TIDEMARK_ADMIN_KEY'] ?? '') !== '') env['TIDEMARK_API_KEY'] = env['TIDEMARK_ADMIN_KEY'];
    else if ((env['TIDEMARK_ADMIN_KEY_FILE'] ?? '') !== '')
      env['TIDEMARK_API_KEY_FILE'] = env['TIDEMARK_ADMIN_KEY_FILE'];
  }
  return env;
}

/** The credential variables of the run, to spread into a child's environment. */
export function testCredentialEnv(): NodeJS.ProcessEnv {
  ensureTestCredentials();
  const out: NodeJS.ProcessEnv = {};
  for (const name of TEST_CREDENTIAL_VARS)
    for (const v of [name, `${name}_FILE`]) if (process.env[v] !== undefined) out[v] = process.env[v];
  return out;
}

/** The run's API key: the admin key unless `TIDEMARK_API_KEY[_FILE]` names another. */
export function testApiKey(): string {
  ensureTestCredentials();
  const file = process.env['TIDEMARK_API_KEY_FILE'];
  if (file !== undefined && file !== '') return readFileSync(file, 'utf8').trim();
  return process.env['TIDEMARK_API_KEY']!;
}

/** The `Authorization` header of a request with `key` (default: the run's API key). */
export function authorization(key: string = testApiKey()): { authorization: string } {
  return { authorization: `Bearer ${key}` };
}

// Spec files (the test runner marks their processes) get the run's credentials before any of their code runs.
if (process.env['NODE_TEST_CONTEXT'] !== undefined) ensureTestCredentials();
