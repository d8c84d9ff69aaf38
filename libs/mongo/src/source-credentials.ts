/**
 * Which source deployments the agent holds credentials for, and the rule that gives a job's source URI its
 * credentials. A job names its source by URI (without credentials); the agent must never send a password to a host
 * the operator did not bind it to, so credentials belong to a **source entry**: a list of hosts (a replica set's
 * seed list) or one `mongodb+srv` name.
 *
 * The rule, applied to a job's URI before any connection is made ({@link SourceCredentials.forUri}):
 * - the agent was given no source entries at all: every source is taken as one that needs no credentials, and is
 *   connected without any;
 * - otherwise the URI must match an entry, or it is refused ({@link SourceNotAllowedError}, not retriable). A
 *   `mongodb://` URI matches an entry when every host it lists (any order, any subset) is one of the entry's hosts;
 *   hosts compare case-insensitively, with the default port 27017 made explicit and a trailing dot removed. A
 *   `mongodb+srv://` URI matches an entry with the same SRV name (the driver only accepts SRV targets under that
 *   name's parent domain). An entry without a username is a source that needs no credentials;
 * - a matched entry's URI must not choose how to authenticate (`authSource`, `authMechanism`,
 *   `authMechanismProperties`): the entry does, so a job cannot downgrade the agent to a mechanism that sends the
 *   password in clear.
 *
 * Where entries come from ({@link sourceCredentialsFromEnv}):
 * - `TIDEMARK_SOURCE_CREDENTIALS_FILE` (a mounted file) or `TIDEMARK_SOURCE_CREDENTIALS` (the same JSON inline), not
 *   both: `{ "sources": [ { "id", "hosts" | "srv", "username"?, "password"?, "authSource"?, "authMechanism"? } ] }`;
 * - `TIDEMARK_SOURCE_USERNAME` / `TIDEMARK_SOURCE_PASSWORD` (kept from before): one entry (id `env`) for the hosts
 *   in `TIDEMARK_SOURCE_HOSTS` (comma-separated `host[:port]`, or one `mongodb+srv://<name>`), by default the hosts
 *   of the agent's own source URI (`SOURCE_MONGODB_URI`).
 * A host (or SRV name) in two entries is a configuration error. Passwords never appear in an error or a log line.
 */
import { readFileSync } from 'node:fs';
import { TidemarkError } from '@tidemark/domain';

/** MongoDB's default port, made explicit when a host omits it. */
export const DEFAULT_MONGO_PORT = 27017;

export const SOURCE_CREDENTIALS_ENV = {
  file: 'TIDEMARK_SOURCE_CREDENTIALS_FILE',
  inline: 'TIDEMARK_SOURCE_CREDENTIALS',
  username: 'TIDEMARK_SOURCE_USERNAME',
  password: 'TIDEMARK_SOURCE_PASSWORD',
  hosts: 'TIDEMARK_SOURCE_HOSTS',
} as const;

/** Mechanisms an entry may name (the driver's names); unset lets the driver negotiate SCRAM. */
export const SOURCE_AUTH_MECHANISMS = ['SCRAM-SHA-1', 'SCRAM-SHA-256', 'PLAIN'] as const;
export type SourceAuthMechanism = (typeof SOURCE_AUTH_MECHANISMS)[number];

/** URI options that choose how to authenticate: the entry's to set, never a job's. */
const AUTH_URI_OPTIONS = ['authsource', 'authmechanism', 'authmechanismproperties'];

/** Where a source URI points: its normalised hosts (`host:port`), or its SRV name. */
export interface SourceAddress {
  readonly srv: boolean;
  /** `host:port` (lower case, explicit port) for `mongodb://`; the one SRV name for `mongodb+srv://`. */
  readonly hosts: readonly string[];
  /** Names of the URI's options, lower case. */
  readonly optionNames: readonly string[];
}

/** The credentials a connection to a matched source uses (the driver's `auth`, `authSource`, `authMechanism`). */
export interface SourceLogin {
  readonly username: string;
  readonly password: string;
  readonly authSource?: string;
  readonly authMechanism?: SourceAuthMechanism;
}

/** One source the agent was given: where it is and, unless it needs none, how to log in. */
export interface SourceEntry {
  /** Names the entry in errors and logs (never the password). */
  readonly id: string;
  readonly srv: string | undefined;
  /** Normalised `host:port`; empty for an SRV entry. */
  readonly hosts: readonly string[];
  /** Undefined: the source needs no credentials. */
  readonly login: SourceLogin | undefined;
}

/** The agent's source credentials are set wrongly (at start-up). Not retriable. */
export class SourceCredentialsConfigError extends TidemarkError {
  override readonly name: string = 'SourceCredentialsConfigError';

  constructor(message: string) {
    super(`source credentials: ${message}`, { retriable: false });
  }
}

/**
 * A job's source is not one the agent was given credentials for (or its URI tries to choose how to authenticate).
 * Nothing was sent to it. Not retriable: the job or the agent's configuration must change.
 */
export class SourceNotAllowedError extends TidemarkError {
  override readonly name: string = 'SourceNotAllowedError';
  /** The refused URI (jobs' URIs carry no credentials). */
  readonly uri: string;

  constructor(uri: string, reason: string) {
    super(`source ${uri} refused: ${reason}`, { retriable: false });
    this.uri = uri;
  }
}

/**
 * One host of a URI or of an entry, normalised: lower case, no trailing dot, explicit port (`[v6]:port` for IPv6).
 * A Unix socket path (`/tmp/mongodb-27017.sock`, URI-encoded in URIs) is kept as its decoded path.
 * Throws a plain `Error` saying what is wrong; callers wrap it.
 */
export function normalizeHost(text: string): string {
  let host: string;
  try {
    host = decodeURIComponent(text.trim());
  } catch {
    throw new Error(`host ${JSON.stringify(text)} is not valid URI encoding`);
  }
  if (host === '') throw new Error('a host is empty');
  if (host.startsWith('/')) {
    if (!host.endsWith('.sock')) throw new Error(`host ${JSON.stringify(host)} is not a .sock path`);
    return host;
  }
  let name: string;
  let port: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(.*))?$/.exec(host);
  if (v6 !== null) {
    name = `[${v6[1]!.toLowerCase()}]`;
    port = v6[2];
  } else {
    const parts = host.split(':');
    if (parts.length > 2)
      throw new Error(`host ${JSON.stringify(host)} has more than one ':' (IPv6 needs [ ])`);
    name = parts[0]!.toLowerCase().replace(/\.$/, '');
    port = parts[1];
    if (!/^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/.test(name))
      throw new Error(`host ${JSON.stringify(host)} is not a host name or address`);
  }
  if (port === undefined) return `${name}:${DEFAULT_MONGO_PORT}`;
  const n = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new Error(`host ${JSON.stringify(host)} has no port 1-65535`);
  return `${name}:${n}`;
}

/**
 * The hosts (or SRV name) and option names of a `mongodb://` / `mongodb+srv://` URI; a `user@` part is ignored.
 * Throws a plain `Error` for anything else.
 */
export function sourceAddressOf(uri: string): SourceAddress {
  const match = /^(mongodb(?:\+srv)?):\/\/([^/?#]*)(?:\/[^?#]*)?(?:\?([^#]*))?(?:#.*)?$/i.exec(uri.trim());
  if (match === null) throw new Error('not a mongodb:// or mongodb+srv:// URI');
  const srv = match[1]!.toLowerCase() === 'mongodb+srv';
  const authority = match[2]!;
  const hostList = authority.slice(authority.lastIndexOf('@') + 1);
  const optionNames = (match[3] ?? '')
    .split('&')
    .filter((p) => p !== '')
    .map((p) => p.split('=')[0]!.toLowerCase());
  if (srv) {
    if (hostList.includes(',') || hostList.includes(':'))
      throw new Error('a mongodb+srv:// URI names exactly one host, without a port');
    return { srv, hosts: [srvName(hostList)], optionNames };
  }
  const hosts = hostList.split(',').map(normalizeHost);
  return { srv, hosts: [...new Set(hosts)], optionNames };
}

function srvName(text: string): string {
  const name = text.trim().toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(name))
    throw new Error(`SRV name ${JSON.stringify(text)} is not a domain name`);
  return name;
}

/** The agent's source entries and the matching rule (see the module comment). */
export class SourceCredentials {
  /** No entries: every source is connected without credentials. */
  static readonly OPEN = new SourceCredentials([]);

  private readonly byHost = new Map<string, SourceEntry>();
  private readonly bySrv = new Map<string, SourceEntry>();

  /** Throws {@link SourceCredentialsConfigError} when a host or SRV name is in two entries. */
  constructor(readonly entries: readonly SourceEntry[]) {
    for (const entry of entries) {
      const keys = entry.srv === undefined ? entry.hosts : [entry.srv];
      const index = entry.srv === undefined ? this.byHost : this.bySrv;
      for (const key of keys) {
        const other = index.get(key);
        if (other !== undefined && other !== entry)
          throw new SourceCredentialsConfigError(
            `${key} is in two source entries, ${other.id} and ${entry.id}`,
          );
        index.set(key, entry);
      }
    }
  }

  /**
   * The login to use for `uri` (undefined: connect without credentials), or throws {@link SourceNotAllowedError}
   * when the agent has entries and `uri` matches none of them.
   */
  forUri(uri: string): SourceLogin | undefined {
    let address: SourceAddress;
    try {
      address = sourceAddressOf(uri);
    } catch (err) {
      throw new SourceNotAllowedError(uri, (err as Error).message);
    }
    if (this.entries.length === 0) return undefined;
    const entry = this.entryOf(address);
    if (entry === undefined) {
      throw new SourceNotAllowedError(
        uri,
        `it is not a source the agent was given credentials for (${address.hosts.join(',')} is in none of the ` +
          `agent's source entries: ${this.entries.map((e) => e.id).join(', ')}); add it to ` +
          `${SOURCE_CREDENTIALS_ENV.file} (or ${SOURCE_CREDENTIALS_ENV.hosts}), without a username if it needs none`,
      );
    }
    if (entry.login === undefined) return undefined;
    const chosen = address.optionNames.filter((o) => AUTH_URI_OPTIONS.includes(o));
    if (chosen.length > 0) {
      throw new SourceNotAllowedError(
        uri,
        `its options ${chosen.join(', ')} choose how to authenticate; the agent's source entry ${entry.id} does`,
      );
    }
    return entry.login;
  }

  /** For logs: the entries without their passwords. */
  toJSON(): unknown {
    return this.entries.map((e) => ({
      id: e.id,
      ...(e.srv === undefined ? { hosts: e.hosts } : { srv: e.srv }),
      username: e.login?.username ?? null,
    }));
  }

  private entryOf(address: SourceAddress): SourceEntry | undefined {
    if (address.srv) return this.bySrv.get(address.hosts[0]!);
    const [first] = address.hosts;
    const entry = first === undefined ? undefined : this.byHost.get(first);
    if (entry === undefined) return undefined;
    return address.hosts.every((h) => this.byHost.get(h) === entry) ? entry : undefined;
  }
}

const ENTRY_FIELDS = ['id', 'hosts', 'srv', 'username', 'password', 'authSource', 'authMechanism'];

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses the JSON of `TIDEMARK_SOURCE_CREDENTIALS(_FILE)`; `where` names it in errors. Every problem is reported at
 * once; no message quotes a password.
 */
export function parseSourceEntries(json: string, where: string): SourceEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new SourceCredentialsConfigError(`${where} is not JSON`);
  }
  if (!isRecord(doc) || !Array.isArray(doc['sources']) || Object.keys(doc).some((k) => k !== 'sources'))
    throw new SourceCredentialsConfigError(
      `${where} must be an object { "sources": [ ... ] } and nothing else`,
    );
  const problems: string[] = [];
  const entries: SourceEntry[] = [];
  const ids = new Set<string>();
  (doc['sources'] as unknown[]).forEach((raw, i) => {
    const at = `sources[${i}]`;
    if (!isRecord(raw)) {
      problems.push(`${at} must be an object`);
      return;
    }
    for (const key of Object.keys(raw))
      if (!ENTRY_FIELDS.includes(key))
        problems.push(`${at}.${key} is not a field (${ENTRY_FIELDS.join(', ')})`);
    const id = raw['id'];
    if (typeof id !== 'string' || id.trim() === '') problems.push(`${at}.id must be a non-empty string`);
    else if (ids.has(id)) problems.push(`${at}.id ${JSON.stringify(id)} is used twice`);
    else ids.add(id);
    const name = typeof id === 'string' && id !== '' ? id : at;
    const entry = entryOf(name, raw, problems);
    if (entry !== undefined) entries.push(entry);
  });
  if (problems.length > 0) throw new SourceCredentialsConfigError(`${where}: ${problems.join('; ')}`);
  return entries;
}

function entryOf(id: string, raw: Record<string, unknown>, problems: string[]): SourceEntry | undefined {
  const before = problems.length;
  const { hosts, srv, username, password, authSource, authMechanism } = raw;
  let where: Pick<SourceEntry, 'srv' | 'hosts'> = { srv: undefined, hosts: [] };
  if ((hosts === undefined) === (srv === undefined)) {
    problems.push(`${id} must have either "hosts" (a list of host[:port]) or "srv" (a mongodb+srv name)`);
  } else if (srv !== undefined) {
    if (typeof srv !== 'string') problems.push(`${id}.srv must be a string`);
    else
      try {
        where = { srv: srvName(srv), hosts: [] };
      } catch (err) {
        problems.push(`${id}.srv: ${(err as Error).message}`);
      }
  } else if (!Array.isArray(hosts) || hosts.length === 0 || !hosts.every((h) => typeof h === 'string')) {
    problems.push(`${id}.hosts must be a non-empty list of "host[:port]" strings`);
  } else {
    try {
      where = { srv: undefined, hosts: [...new Set(hosts.map(normalizeHost))] };
    } catch (err) {
      problems.push(`${id}.hosts: ${(err as Error).message}`);
    }
  }
  const login = loginOf(id, { username, password, authSource, authMechanism }, problems);
  return problems.length === before ? { id, ...where, login } : undefined;
}

function loginOf(id: string, raw: Record<string, unknown>, problems: string[]): SourceLogin | undefined {
  const { username, password, authSource, authMechanism } = raw;
  if (username === undefined) {
    const stray = ['password', 'authSource', 'authMechanism'].filter((k) => raw[k] !== undefined);
    if (stray.length > 0) problems.push(`${id} has ${stray.join(', ')} but no username`);
    return undefined;
  }
  if (typeof username !== 'string' || username === '')
    problems.push(`${id}.username must be a non-empty string`);
  if (typeof password !== 'string' || password === '')
    problems.push(`${id}.password must be a non-empty string when a username is given`);
  if (authSource !== undefined && (typeof authSource !== 'string' || authSource === ''))
    problems.push(`${id}.authSource must be a database name`);
  if (authMechanism !== undefined && !(SOURCE_AUTH_MECHANISMS as readonly unknown[]).includes(authMechanism))
    problems.push(`${id}.authMechanism must be one of ${SOURCE_AUTH_MECHANISMS.join(', ')}`);
  return {
    username: username as string,
    password: password as string,
    ...(authSource === undefined ? {} : { authSource: authSource as string }),
    ...(authMechanism === undefined ? {} : { authMechanism: authMechanism as SourceAuthMechanism }),
  };
}

/**
 * The agent's {@link SourceCredentials} from its environment (see the module comment). `defaultSourceUri` is the
 * agent's own source (`SOURCE_MONGODB_URI`), whose hosts the legacy username/password belong to when
 * `TIDEMARK_SOURCE_HOSTS` is unset. Throws {@link SourceCredentialsConfigError} on a half-set or invalid setting.
 */
export function sourceCredentialsFromEnv(
  env: NodeJS.ProcessEnv,
  defaultSourceUri: string | undefined,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): SourceCredentials {
  const E = SOURCE_CREDENTIALS_ENV;
  const set = (name: string): string | undefined =>
    env[name] === undefined || env[name] === '' ? undefined : env[name];
  const entries: SourceEntry[] = [];
  const file = set(E.file);
  const inline = set(E.inline);
  if (file !== undefined && inline !== undefined)
    throw new SourceCredentialsConfigError(`set ${E.file} or ${E.inline}, not both`);
  if (file !== undefined) {
    let text: string;
    try {
      text = readFile(file);
    } catch (err) {
      throw new SourceCredentialsConfigError(`${E.file}=${file} cannot be read: ${(err as Error).message}`);
    }
    entries.push(...parseSourceEntries(text, `${E.file} (${file})`));
  }
  if (inline !== undefined) entries.push(...parseSourceEntries(inline, E.inline));

  const username = set(E.username);
  const password = set(E.password);
  const hosts = set(E.hosts);
  if (username === undefined) {
    const stray = [E.password, E.hosts].filter((n) => set(n) !== undefined);
    if (stray.length > 0)
      throw new SourceCredentialsConfigError(`${stray.join(' and ')} set without ${E.username}`);
  } else {
    if (password === undefined)
      throw new SourceCredentialsConfigError(`${E.username} is set but ${E.password} is not`);
    const list = hosts ?? defaultSourceUri;
    if (list === undefined)
      throw new SourceCredentialsConfigError(
        `${E.username} is set but neither ${E.hosts} nor the agent's own source URI says which hosts it is for`,
      );
    let where: Pick<SourceEntry, 'srv' | 'hosts'>;
    try {
      where = /^mongodb(\+srv)?:\/\//i.test(list)
        ? whereOfUri(list)
        : { srv: undefined, hosts: hostList(list) };
    } catch (err) {
      throw new SourceCredentialsConfigError(
        `${hosts === undefined ? "the agent's own source URI" : E.hosts}: ${(err as Error).message}`,
      );
    }
    entries.push({ id: 'env', ...where, login: { username, password } });
  }
  return entries.length === 0 ? SourceCredentials.OPEN : new SourceCredentials(entries);
}

function whereOfUri(uri: string): Pick<SourceEntry, 'srv' | 'hosts'> {
  const address = sourceAddressOf(uri);
  return address.srv ? { srv: address.hosts[0], hosts: [] } : { srv: undefined, hosts: address.hosts };
}

function hostList(text: string): string[] {
  return [...new Set(text.split(',').map(normalizeHost))];
}
