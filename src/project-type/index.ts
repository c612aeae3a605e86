export * from './rauli-service-project';
