/**
 * How Tidemark's Kafka clients secure their connections: TLS and SASL, from the environment. Every production Kafka
 * needs one or both; the local broker's PLAINTEXT listener needs neither (nothing set = plaintext, as before).
 *
 * | variable                            | meaning                                                                   |
 * | ----------------------------------- | ------------------------------------------------------------------------- |
 * | `TIDEMARK_KAFKA_TLS`                | `true`: connect with TLS (the system CAs unless a CA file is given)       |
 * | `TIDEMARK_KAFKA_TLS_CA_FILE`        | PEM file of the CA(s) that signed the brokers' certificates               |
 * | `TIDEMARK_KAFKA_TLS_CERT_FILE`      | PEM client certificate (mutual TLS); needs `TIDEMARK_KAFKA_TLS_KEY_FILE`  |
 * | `TIDEMARK_KAFKA_TLS_KEY_FILE`       | PEM private key of the client certificate; needs the cert file            |
 * | `TIDEMARK_KAFKA_TLS_SERVERNAME`     | name to check the brokers' certificates against (SNI), if not the host    |
 * | `TIDEMARK_KAFKA_SASL_MECHANISM`     | `SCRAM-SHA-256`, `SCRAM-SHA-512` or `PLAIN` (PLAIN only with TLS)         |
 * | `TIDEMARK_KAFKA_SASL_USERNAME`      | SASL user; required with a mechanism                                      |
 * | `TIDEMARK_KAFKA_SASL_PASSWORD`      | its password, or `TIDEMARK_KAFKA_SASL_PASSWORD_FILE` (a mounted secret)   |
 *
 * Any other variable starting `TIDEMARK_KAFKA_TLS` or `TIDEMARK_KAFKA_SASL`, a half-set pair (a cert without its
 * key, a username without a mechanism, a password both inline and in a file, TLS files without
 * `TIDEMARK_KAFKA_TLS=true`), an unknown mechanism or an unreadable file is refused with
 * {@link KafkaSecurityConfigError} naming the variable. No message quotes a password or a key.
 */
import { readFileSync } from 'node:fs';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { TidemarkError } from '@tidemark/domain';

export const KAFKA_SECURITY_ENV = {
  tls: 'TIDEMARK_KAFKA_TLS',
  caFile: 'TIDEMARK_KAFKA_TLS_CA_FILE',
  certFile: 'TIDEMARK_KAFKA_TLS_CERT_FILE',
  keyFile: 'TIDEMARK_KAFKA_TLS_KEY_FILE',
  servername: 'TIDEMARK_KAFKA_TLS_SERVERNAME',
  mechanism: 'TIDEMARK_KAFKA_SASL_MECHANISM',
  username: 'TIDEMARK_KAFKA_SASL_USERNAME',
  password: 'TIDEMARK_KAFKA_SASL_PASSWORD',
  passwordFile: 'TIDEMARK_KAFKA_SASL_PASSWORD_FILE',
} as const;

/** The SASL mechanisms Tidemark supports, in Kafka's spelling. */
export const KAFKA_SASL_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

export interface KafkaTls {
  /** PEM contents (not paths); undefined: the system's CAs. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly servername?: string;
}

export interface KafkaSasl {
  readonly mechanism: KafkaSaslMechanism;
  readonly username: string;
  readonly password: string;
}

/** How a client connects: plaintext when both are undefined. */
export interface KafkaSecurity {
  readonly tls: KafkaTls | undefined;
  readonly sasl: KafkaSasl | undefined;
}

export const PLAINTEXT: KafkaSecurity = Object.freeze({ tls: undefined, sasl: undefined });

/** A TLS or SASL setting is wrong (at start-up). Not retriable. */
export class KafkaSecurityConfigError extends TidemarkError {
  override readonly name: string = 'KafkaSecurityConfigError';

  constructor(message: string) {
    super(`Kafka security settings: ${message}`, { retriable: false });
  }
}

type ReadFile = (path: string) => string;
const readText: ReadFile = (path) => readFileSync(path, 'utf8');

/** Reads the settings of the module comment from `env`; throws {@link KafkaSecurityConfigError}. */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv, readFile: ReadFile = readText): KafkaSecurity {
  const E = KAFKA_SECURITY_ENV;
  const known = new Set<string>(Object.values(E));
  const unknown = Object.keys(env).filter(
    (k) => (k.startsWith('TIDEMARK_KAFKA_TLS') || k.startsWith('TIDEMARK_KAFKA_SASL')) && !known.has(k),
  );
  if (unknown.length > 0)
    throw new KafkaSecurityConfigError(
      `unknown ${unknown.sort().join(', ')} (known: ${Object.values(E).join(', ')})`,
    );
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const file = (name: string, what: string): string | undefined => {
    const path = get(name);
    if (path === undefined) return undefined;
    try {
      return readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new KafkaSecurityConfigError(`${name}=${path}: cannot read the ${what} (${code})`);
    }
  };

  let tls: KafkaTls | undefined;
  const tlsFlag = get(E.tls);
  if (tlsFlag !== undefined && tlsFlag !== 'true' && tlsFlag !== 'false')
    throw new KafkaSecurityConfigError(`${E.tls} must be true or false, got ${JSON.stringify(tlsFlag)}`);
  const tlsDetails = [E.caFile, E.certFile, E.keyFile, E.servername].filter((n) => get(n) !== undefined);
  if (tlsFlag !== 'true') {
    if (tlsDetails.length > 0)
      throw new KafkaSecurityConfigError(`${tlsDetails.join(', ')} set but ${E.tls} is not true`);
  } else {
    if ((get(E.certFile) === undefined) !== (get(E.keyFile) === undefined))
      throw new KafkaSecurityConfigError(
        `${E.certFile} and ${E.keyFile} go together (mutual TLS): set both or neither`,
      );
    const ca = file(E.caFile, 'CA certificates');
    const cert = file(E.certFile, 'client certificate');
    const key = file(E.keyFile, 'client key');
    const servername = get(E.servername);
    tls = {
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
      ...(servername === undefined ? {} : { servername }),
    };
  }

  let sasl: KafkaSasl | undefined;
  const mechanismText = get(E.mechanism);
  const saslDetails = [E.username, E.password, E.passwordFile].filter((n) => get(n) !== undefined);
  if (mechanismText === undefined) {
    if (saslDetails.length > 0)
      throw new KafkaSecurityConfigError(`${saslDetails.join(', ')} set without ${E.mechanism}`);
  } else {
    const mechanism = KAFKA_SASL_MECHANISMS.find((m) => m === mechanismText.toUpperCase());
    if (mechanism === undefined)
      throw new KafkaSecurityConfigError(
        `${E.mechanism} must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}, got ${JSON.stringify(mechanismText)}`,
      );
    const username = get(E.username);
    if (username === undefined)
      throw new KafkaSecurityConfigError(`${E.mechanism} is set but ${E.username} is not`);
    const inline = env[E.password];
    const passwordFile = get(E.passwordFile);
    if (inline !== undefined && inline !== '' && passwordFile !== undefined)
      throw new KafkaSecurityConfigError(`set ${E.password} or ${E.passwordFile}, not both`);
    const password =
      passwordFile !== undefined ? file(E.passwordFile, 'password')!.replace(/\r?\n$/, '') : (inline ?? '');
    if (password === '')
      throw new KafkaSecurityConfigError(
        `${E.mechanism} is set but neither ${E.password} nor ${E.passwordFile} is`,
      );
    if (mechanism === 'PLAIN' && tls === undefined)
      throw new KafkaSecurityConfigError(
        `${E.mechanism}=PLAIN sends the password as it is: it needs ${E.tls}=true (or use SCRAM-SHA-256/512)`,
      );
    sasl = { mechanism, username, password };
  }
  return tls === undefined && sasl === undefined ? PLAINTEXT : { tls, sasl };
}

/** The kafkajs `ssl` and `sasl` settings of `security`. */
export function kafkajsSecurity(security: KafkaSecurity): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const { tls, sasl } = security;
  const out: { ssl?: KafkaConfig['ssl']; sasl?: SASLOptions } = {};
  if (tls !== undefined) out.ssl = Object.keys(tls).length === 0 ? true : { ...tls };
  if (sasl !== undefined) {
    const { username, password } = sasl;
    out.sasl =
      sasl.mechanism === 'PLAIN'
        ? { mechanism: 'plain', username, password }
        : sasl.mechanism === 'SCRAM-SHA-256'
          ? { mechanism: 'scram-sha-256', username, password }
          : { mechanism: 'scram-sha-512', username, password };
  }
  return out;
}

/** For logs: what is set, without the password or key material. */
export function describeKafkaSecurity(security: KafkaSecurity): string {
  const tls =
    security.tls === undefined
      ? 'no TLS'
      : `TLS (${security.tls.ca === undefined ? 'system CAs' : 'CA file'}${security.tls.cert === undefined ? '' : ', client certificate'}${security.tls.servername === undefined ? '' : `, servername ${security.tls.servername}`})`;
  const sasl =
    security.sasl === undefined ? 'no SASL' : `SASL ${security.sasl.mechanism} as ${security.sasl.username}`;
  return `${tls}, ${sasl}`;
}
