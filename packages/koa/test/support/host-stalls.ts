/* What a latency bound in a failover test allows beyond the Redis deadlines
 * the code may wait for. */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Scheduling on top of the deadlines and the measured stalls: the in-process
 * test client's own callbacks and the timers' granularity. Measured here: a
 * single node's slowest request 102-110 ms against one 100 ms deadline, the
 * cluster's 175-199 ms against three. Below one deadline, so a request that
 * waited for two deadlines where the code allows one fails (with 100 ms,
 * 208 ms passed a bound of 216).
 */
const HOST_NOISE_MS = 50;

/**
 * Measures how long this process's event loop was held up (a major GC in a
 * long jest worker, a starved CPU) while a phase of a test runs. A request in
 * flight during such a stall takes that much longer whatever the code does,
 * so the bound adds it: seen in CI, a request waited 254 ms against one 100 ms
 * deadline on a run where every other phase stayed near 105 ms.
 */
export class HostStalls {
  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.histogram.enable();
  }

  /**
   * Stops measuring, prints the phase's slowest requests and expects the
   * slowest within `failFastMs` (the deadlines the code may wait for), plus
   * HOST_NOISE_MS, plus the longest stall seen.
   */
  expectSlowestWithin(phase: string, requestMs: readonly number[], failFastMs: number): void {
    this.histogram.disable();
    const stalledMs = this.histogram.max / 1e6;
    const slowest = [...requestMs].sort((a, b) => b - a).slice(0, 8).map((x) => x.toFixed(0)).join(' ');
    process.stdout.write(`${phase}: slowest ${slowest} ms, longest event-loop stall ${stalledMs.toFixed(0)} ms\n`);
    expect(Math.max(...requestMs)).toBeLessThan(failFastMs + HOST_NOISE_MS + stalledMs);
  }
}
