/**
 * @tidemark/restore-mongo (type:adapter): the backup-side MongoDB parts of restore's ports: the mount registry
 * (`mounts` in the meta database) and the scratch databases' admin (drop, read-only users).
 */
export * from './mongo-mounts';
