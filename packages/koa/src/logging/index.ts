export * from './logger';
export * from './request-logger';
