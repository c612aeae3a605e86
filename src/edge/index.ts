export * from './routing';
export * from './security-headers';
export * from './cluster-issuer';
export * from './ingress';
export * from './gateway';
export * from './client-trust';
export * from './edge';
export * from './edge-environments';
