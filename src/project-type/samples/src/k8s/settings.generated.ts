// Stand-in for the file K8sApp generates in a scaffolded service (never copied
// there): the samples type-check and lint against its shape here, and a test
// of the project type compares its keys with what K8sApp writes.
/* eslint-disable */
export const SERVICE = {
  "name": "orders",
  "image": "ghcr.io/rauli-vision/orders",
  "port": 8080,
  "usePostgres": true,
  "useRedis": true,
  "environments": ["dev", "staging", "production"],
  "namespaces": { "dev": "rauli-vision-dev", "staging": "rauli-vision-staging", "production": "rauli-vision-production" },
  "manifests": { "dev": "dist/k8s/orders-dev.k8s.yaml", "staging": "dist/k8s/orders-staging.k8s.yaml", "production": "dist/k8s/orders-production.k8s.yaml" },
} as const;

export type Environment = typeof SERVICE.environments[number];
