export * from './exporter-metrics';
export * from './service-monitor';
export * from './alert-rules';
