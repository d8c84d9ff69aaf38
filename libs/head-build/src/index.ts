export * from './head-builder';
