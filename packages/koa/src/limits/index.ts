export * from './body';
export * from './concurrency';
export * from './request-timeout';
