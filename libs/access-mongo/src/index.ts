export * from './mongo-access-store';
export * from './mongo-audit-store';
