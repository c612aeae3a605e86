export * from './two-level-cache';
export * from './response-cache';
