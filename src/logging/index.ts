export * from './logging-sizing';
export * from './log-fields';
export * from './log-elasticsearch';
export * from './log-kibana';
export * from './log-collector';
export * from './log-lifecycle';
export * from './logging-network-policies';
export * from './logging-stack';
