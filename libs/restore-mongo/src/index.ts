/**
 * @tidemark/restore-mongo (type:adapter): the backup-side MongoDB parts of restore's ports: the mount registry
 * (`mounts` in the meta database), the scratch databases' admin (drop, read-only users), and counting and dropping
 * a restore target's namespaces (`MongoNamespaceAdmin`).
 */
export * from './mongo-mounts';
export * from './mongo-namespace-admin';
