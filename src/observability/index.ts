export * from './exporter-metrics';
export * from './service-monitor';
export * from './alert-rules';
export * from './alert-receiver';
export * from './alert-routing';
export { PrometheusStackValues } from './prometheus-stack-values';
export type { PrometheusStackValuesOptions } from './prometheus-stack-values';
export * from './dashboards';
export * from './monitoring';
