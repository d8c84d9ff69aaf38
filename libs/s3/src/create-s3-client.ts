/**
 * The S3 client for the `s3` snapshot store (blocks in a bucket) and anything else Tidemark keeps in
 * object storage.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3Endpoint } from '@tidemark/config';

/** Extra client settings for tests or tuning; anything not given keeps the SDK's defaults. */
export type S3ClientOverrides = Pick<S3ClientConfig, 'maxAttempts' | 'requestHandler' | 'logger'>;

/**
 * Builds a client for `endpoints.s3`.
 *
 * - A custom endpoint (MinIO, moto, Ceph, ...) implies path-style addressing (`http://host/bucket/key`),
 *   since such servers rarely resolve virtual-host bucket names; with AWS's own endpoint the
 *   `forcePathStyle` flag decides.
 * - Credentials come from the endpoint when both key id and secret are set, otherwise from the SDK's
 *   default provider chain (environment, instance profile, IRSA, ...).
 * - Flexible checksums stay at the SDK's default (CRC32 on uploads when supported).
 */
export function createS3Client(s3: S3Endpoint, overrides: S3ClientOverrides = {}): S3Client {
  const config: S3ClientConfig = {
    ...overrides,
    region: s3.region,
    forcePathStyle: s3.endpoint !== undefined ? true : s3.forcePathStyle,
  };
  if (s3.endpoint !== undefined) config.endpoint = s3.endpoint;
  if (s3.accessKeyId !== undefined && s3.secretAccessKey !== undefined) {
    config.credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
  }
  return new S3Client(config);
}
