export * from './postgres/postgres-cluster';
export * from './redis/redis-cluster';
export * from './backup/backup-storage';
export * from './backup/database-backup';
export * from './backup/application-backup';
export * from './backup/restore-job';
export * from './backup/disaster-recovery-plan';
export * from './data-tier';
