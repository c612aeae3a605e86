export * from './rauli-service-options';
export * from './rauli-service-project';
