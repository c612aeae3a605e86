export * from './helm-chart-repository';
export * from './cluster-addon';
export * from './cluster-addons-chart';
