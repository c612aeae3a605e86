// Internal helper (not exported from the package entry point).

/** Seconds in a Go-style duration such as '1m30s' (already validated). */
export function durationSeconds(duration: string): number {
  const units: { [unit: string]: number } = { ms: 0.001, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const m of duration.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    total += Number(m[1]) * units[m[2]];
  }
  return total;
}
