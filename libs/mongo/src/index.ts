export { connectMongo, pingMongo, MONGO_DEFAULTS } from './connect-mongo';
export type { ConnectMongoOptions, MongoTlsOptions } from './connect-mongo';
export { classifyMongoError } from './classify-mongo-error';
export type { ErrorClassification } from './classify-mongo-error';
export { MONGO_ERROR_RULES } from './mongo-error-rules';
export type { MongoErrorRule } from './mongo-error-rules';
export {
  DEFAULT_MONGO_PORT,
  normalizeHost,
  parseSourceEntries,
  SOURCE_AUTH_MECHANISMS,
  SOURCE_CREDENTIALS_ENV,
  SourceCredentials,
  SourceCredentialsConfigError,
  sourceCredentialsFromEnv,
  SourceNotAllowedError,
  sourceAddressOf,
} from './source-credentials';
export type { SourceAddress, SourceAuthMechanism, SourceEntry, SourceLogin } from './source-credentials';
