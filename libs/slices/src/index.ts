export * from './payload';
export * from './slicer';
export * from './catalog';
