export { createS3Client } from './create-s3-client';
export type { S3ClientOverrides } from './create-s3-client';
export { ensureBucket, pingS3 } from './bucket';
export { classifyS3Error } from './classify-s3-error';
export type { S3ErrorClassification } from './classify-s3-error';
export { S3_ERROR_RULES } from './s3-error-rules';
export type { S3ErrorRule } from './s3-error-rules';
