import { Counter, Registry } from 'prom-client';

/** What a bound child has counted since the last scrape. */
interface Pending<L extends string> {
  readonly labels: Partial<Record<L, string>>;
  count: number;
}

const pendingOf = new WeakMap<Counter<string>, Pending<string>[]>();

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
  const pending: Pending<L>[] = [];
  const counter = new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    // Folds the bound children's counts in when Prometheus scrapes (see counterChild).
    collect() {
      for (const child of pending) {
        if (child.count > 0) {
          this.inc(child.labels, child.count);
          child.count = 0;
        }
      }
    },
  });
  pendingOf.set(counter as Counter<string>, pending);
  return counter;
}

/** An increment bound to one label set. */
export interface CounterChild {
  inc(): void;
}

/**
 * One label set of `counter`, for the request path. prom-client's own
 * `labels(...).inc()` hashes and validates the labels on every call; this
 * child adds to a plain number that the counter folds in at scrape time.
 * Undefined without a counter (no registry: no metrics).
 */
export function counterChild<L extends string>(counter: Counter<L> | undefined, labels: Partial<Record<L, string>>): CounterChild | undefined {
  if (!counter) {
    return undefined;
  }
  const pending = pendingOf.get(counter as Counter<string>) as Pending<L>[] | undefined;
  if (!pending) {
    // A counter registered by someone else has no scrape hook of ours: count through prom-client.
    const child = counter.labels(labels);
    return { inc: () => child.inc() };
  }
  const child: Pending<L> = { labels, count: 0 };
  pending.push(child);
  return { inc: () => { child.count++; } };
}
