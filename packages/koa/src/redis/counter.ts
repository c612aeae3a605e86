import { Counter, Registry } from 'prom-client';

/**
 * The counter `name` in `registry`, created on first use: several middleware
 * instances (e.g. two rate limiters) share one registry without a
 * "metric already registered" error.
 */
export function sharedCounter<L extends string>(
  registry: Registry | undefined, name: string, help: string, labelNames: readonly L[],
): Counter<L> | undefined {
  if (!registry) {
    return undefined;
  }
  const existing = registry.getSingleMetric(name);
  if (existing) {
    return existing as Counter<L>;
  }
  return new Counter({ name, help, labelNames, registers: [registry] });
}
