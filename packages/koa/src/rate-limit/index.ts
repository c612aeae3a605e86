export * from './middleware';
export * from './client-identity';
export * from './duration';
export * from './gcra';
export * from './stores';
