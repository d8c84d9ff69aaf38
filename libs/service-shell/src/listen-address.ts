/**
 * Where a service's HTTP server listens: `HOST` (default 127.0.0.1; containers set 0.0.0.0) and `PORT`
 * (default: the service's port in `DEFAULT_PORTS`; 0 picks a free port).
 */
import { DEFAULT_PORTS, type ServiceName } from './service-name';
import { ServiceConfigError } from './service-config';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export function resolveListenAddress(
  name: ServiceName,
  env: NodeJS.ProcessEnv = process.env,
  defaultPort: number = DEFAULT_PORTS[name],
): ListenAddress {
  const host = env['HOST'] || '127.0.0.1';
  const raw = env['PORT'];
  if (raw === undefined || raw === '') return { host, port: defaultPort };
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ServiceConfigError(`PORT must be an integer in [0, 65535], got ${JSON.stringify(raw)}`);
  }
  return { host, port };
}
