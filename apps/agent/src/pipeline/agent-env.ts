/**
 * The agent's own environment (besides the shell's `ServiceConfig`):
 * - `TIDEMARK_API_URL` (default http://127.0.0.1:7100): job-state's REST API;
 * - `TIDEMARK_SOURCE_USERNAME` / `TIDEMARK_SOURCE_PASSWORD`: credentials added to every source URI (commands and
 *   job-state never carry them);
 * - the tunables of `agentSettingsFromEnv` (`@tidemark/agent-core`).
 */
import { agentSettingsFromEnv, AgentConfigError, type AgentSettings } from '@tidemark/agent-core';

export interface AgentEnv {
  readonly apiUrl: string;
  readonly sourceCredentials: { readonly username: string; readonly password: string } | undefined;
  readonly settings: AgentSettings;
}

export const DEFAULT_API_URL = 'http://127.0.0.1:7100';

export function agentEnv(env: NodeJS.ProcessEnv): AgentEnv {
  const apiUrl = (env['TIDEMARK_API_URL'] || DEFAULT_API_URL).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(apiUrl))
    throw new AgentConfigError(`TIDEMARK_API_URL must be an http(s) URL, got ${apiUrl}`);
  const username = env['TIDEMARK_SOURCE_USERNAME'];
  const password = env['TIDEMARK_SOURCE_PASSWORD'];
  return {
    apiUrl,
    sourceCredentials:
      username !== undefined && username !== '' ? { username, password: password ?? '' } : undefined,
    settings: agentSettingsFromEnv(env),
  };
}
