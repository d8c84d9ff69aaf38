export * from './endpoints';
export * from './service-name';
