export * from './http-metrics';
