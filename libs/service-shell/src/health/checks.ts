/**
 * The dependency checks the services use: Kafka (metadata of one Tidemark topic through the shared admin
 * client), MongoDB (`ping` on the source or backup side) and S3 (`HeadBucket` on the snapshot bucket).
 */
import type { Admin } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { classifyMongoError, pingMongo } from '@tidemark/mongo';
import { classifyS3Error, pingS3 } from '@tidemark/s3';
import type { ServiceConfig } from '../service-config';
import type { TopicId } from '@tidemark/bus';
import { BACKUP_MONGO, KAFKA_ADMIN, S3_CLIENT, SERVICE_CONFIG, SOURCE_MONGO } from '../tokens';
import type { DependencyCheckProvider } from './dependency-check';

/**
 * `kafka`: fetches the metadata of topic `topicId` (one the service uses) through the shared admin client.
 * Proves the cluster answers and the topic exists with a leader for every partition.
 */
export function kafkaCheck(topicId: TopicId): DependencyCheckProvider {
  return {
    name: 'kafka',
    inject: [KAFKA_ADMIN, SERVICE_CONFIG],
    create: (admin: Admin, config: ServiceConfig) => {
      const topic = config.topics[topicId].name;
      return async () => {
        const { topics: meta } = await admin.fetchTopicMetadata({ topics: [topic] });
        const partitions = meta[0]?.partitions ?? [];
        if (partitions.length === 0) throw new Error(`topic ${topic} has no partitions`);
        const leaderless = partitions.filter((p) => p.leader < 0);
        if (leaderless.length > 0) {
          throw new Error(`topic ${topic}: ${leaderless.length} partition(s) without a leader`);
        }
      };
    },
  };
}

/** `source` or `backup`: `{ ping: 1 }` on that MongoDB deployment. */
export function mongoCheck(side: 'source' | 'backup'): DependencyCheckProvider {
  return {
    name: side,
    inject: [side === 'source' ? SOURCE_MONGO : BACKUP_MONGO],
    create: (client: MongoClient) => async () => {
      try {
        await pingMongo(client);
      } catch (err) {
        throw new Error(classifyMongoError(err).reason, { cause: err });
      }
    },
  };
}

/** `s3`: `HeadBucket` on the configured snapshot bucket. */
export function s3Check(): DependencyCheckProvider {
  return {
    name: 's3',
    inject: [S3_CLIENT, SERVICE_CONFIG],
    create: (client: S3Client, config: ServiceConfig) => async () => {
      try {
        await pingS3(client, config.endpoints.s3.bucket);
      } catch (err) {
        throw new Error(`bucket ${config.endpoints.s3.bucket}: ${classifyS3Error(err).reason}`, {
          cause: err,
        });
      }
    },
  };
}
