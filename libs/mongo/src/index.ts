export { connectMongo, pingMongo, MONGO_DEFAULTS } from './connect-mongo';
export type { ConnectMongoOptions, MongoTlsOptions } from './connect-mongo';
export { classifyMongoError } from './classify-mongo-error';
export type { ErrorClassification } from './classify-mongo-error';
export { MONGO_ERROR_RULES } from './mongo-error-rules';
export type { MongoErrorRule } from './mongo-error-rules';
