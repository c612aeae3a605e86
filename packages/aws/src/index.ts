export * from './backup/backup-bucket';
export * from './backup/backup-job-role';
export * from './backup/log-snapshot-role';
export * from './cost/budget-scale-down';
export * from './cost/cost-allocation-tags';
export * from './cost/cost-guardrails';
export * from './stacks/platform-foundation-stack';
