/**
 * The agent's own environment (besides the shell's `ServiceConfig`):
 * - `TIDEMARK_API_URL` (default http://127.0.0.1:7100): job-state's REST API;
 * - `TIDEMARK_SOURCE_USERNAME` / `TIDEMARK_SOURCE_PASSWORD`: credentials added to every source URI (commands and
 *   job-state never carry them);
 * - the tunables of `agentSettingsFromEnv` (`@tidemark/capture`).
 */
import { agentSettingsFromEnv, AgentConfigError, type AgentSettings } from '@tidemark/capture';
import { API_URL_ENV, DEFAULT_API_URL, jobStateApiUrl } from '@tidemark/config';

export interface AgentEnv {
  readonly apiUrl: string;
  readonly sourceCredentials: { readonly username: string; readonly password: string } | undefined;
  readonly settings: AgentSettings;
}

export function agentEnv(env: NodeJS.ProcessEnv): AgentEnv {
  const apiUrl = jobStateApiUrl(env);
  if (apiUrl === undefined)
    throw new AgentConfigError(
      `${API_URL_ENV} must be an http(s) URL such as ${DEFAULT_API_URL}, got ${JSON.stringify(env[API_URL_ENV])}`,
    );
  const username = env['TIDEMARK_SOURCE_USERNAME'];
  const password = env['TIDEMARK_SOURCE_PASSWORD'];
  return {
    apiUrl,
    sourceCredentials:
      username !== undefined && username !== '' ? { username, password: password ?? '' } : undefined,
    settings: agentSettingsFromEnv(env),
  };
}
