/**
 * Bucket housekeeping: existence checks for readiness probes and idempotent creation.
 */
import {
  CreateBucketCommand,
  HeadBucketCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';

function httpStatus(err: unknown): number | undefined {
  const s = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

function errorName(err: unknown): string | undefined {
  const n = (err as { name?: unknown } | null)?.name;
  return typeof n === 'string' ? n : undefined;
}

/** Resolves when `bucket` exists and is reachable with the client's credentials (HeadBucket). */
export async function pingS3(client: S3Client, bucket: string): Promise<void> {
  await client.send(new HeadBucketCommand({ Bucket: bucket }));
}

/**
 * Creates `bucket` unless it exists. Idempotent and safe to race: "already owned by you" counts as success.
 * Resolves to `true` when this call created the bucket. A bucket owned by someone else, or any other
 * failure, rejects.
 */
export async function ensureBucket(client: S3Client, bucket: string): Promise<boolean> {
  try {
    await pingS3(client, bucket);
    return false;
  } catch (err) {
    if (httpStatus(err) !== 404 && errorName(err) !== 'NotFound' && errorName(err) !== 'NoSuchBucket')
      throw err;
  }
  try {
    const region = await client.config.region();
    // us-east-1 is the default location and AWS rejects it as an explicit LocationConstraint.
    const location =
      region === 'us-east-1'
        ? {}
        : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } };
    await client.send(new CreateBucketCommand({ Bucket: bucket, ...location }));
    return true;
  } catch (err) {
    if (errorName(err) === 'BucketAlreadyOwnedByYou') return false;
    throw err;
  }
}
