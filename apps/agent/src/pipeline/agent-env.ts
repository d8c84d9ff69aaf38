/**
 * The agent's own environment (besides the shell's `ServiceConfig`):
 * - `TIDEMARK_API_URL` (default http://127.0.0.1:7100): job-state's REST API, called with the services' credential
 *   `TIDEMARK_SERVICE_TOKEN` or `TIDEMARK_SERVICE_TOKEN_FILE` (required: the agent does not start without it);
 * - the source credentials, bound to the sources they belong to (`sourceCredentialsFromEnv` of `@tidemark/mongo`:
 *   `TIDEMARK_SOURCE_CREDENTIALS_FILE` / `TIDEMARK_SOURCE_CREDENTIALS`, or `TIDEMARK_SOURCE_USERNAME` /
 *   `TIDEMARK_SOURCE_PASSWORD` for the hosts in `TIDEMARK_SOURCE_HOSTS`, by default those of the agent's own source
 *   URI); commands and job-state never carry them;
 * - the tunables of `agentSettingsFromEnv` (`@tidemark/capture`).
 */
import { serviceTokenFromEnv } from '@tidemark/access';
import { agentSettingsFromEnv, AgentConfigError, type AgentSettings } from '@tidemark/capture';
import { API_URL_ENV, DEFAULT_API_URL, jobStateApiUrl } from '@tidemark/config';
import { sourceCredentialsFromEnv, type SourceCredentials } from '@tidemark/mongo';

export interface AgentEnv {
  readonly apiUrl: string;
  /** The services' credential, sent to job-state. */
  readonly serviceToken: string;
  readonly sourceCredentials: SourceCredentials;
  readonly settings: AgentSettings;
}

/** `defaultSourceUri`: the agent's own source (`SOURCE_MONGODB_URI`), the default hosts of the legacy credentials. */
export function agentEnv(env: NodeJS.ProcessEnv, defaultSourceUri?: string): AgentEnv {
  const apiUrl = jobStateApiUrl(env);
  if (apiUrl === undefined)
    throw new AgentConfigError(
      `${API_URL_ENV} must be an http(s) URL such as ${DEFAULT_API_URL}, got ${JSON.stringify(env[API_URL_ENV])}`,
    );
  return {
    apiUrl,
    serviceToken: serviceTokenFromEnv(env, 'the agent'),
    sourceCredentials: sourceCredentialsFromEnv(env, defaultSourceUri),
    settings: agentSettingsFromEnv(env),
  };
}
