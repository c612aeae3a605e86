export * from './middleware';
export * from './client-identity';
export * from './gcra';
export * from './stores';
