export * from './health';
export * from './shutdown';
