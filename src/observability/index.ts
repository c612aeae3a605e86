export * from './exporter-metrics';
export * from './service-monitor';
export * from './alert-rules';
export * from './dashboards';
export * from './monitoring';
