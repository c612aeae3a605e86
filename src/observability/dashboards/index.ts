export * from './grafana-dashboard';
export * from './production-dashboard';
export * from './cost-dashboard';
export * from './data-tier-dashboard';
