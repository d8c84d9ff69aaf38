export * from './mongo-access-store';
