const UNIT_MS: { [unit: string]: number } = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** What a duration looks like, for error messages. */
export const DURATION_EXPECTATION = 'a duration such as 500ms, 30s, 1m, 24h or 7d';

/**
 * Parses the seed's duration strings (`30s`, `1m`, `24h`) into milliseconds.
 * A bare number is refused on purpose: `30` could mean seconds or milliseconds.
 */
export function parseDuration(value: string): number {
  const m = DURATION.exec(value.trim());
  if (!m) {
    throw new Error(`'${value}' is not ${DURATION_EXPECTATION}`);
  }
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}

/** Accepts milliseconds or a duration string. */
export function toMs(value: number | string): number {
  return typeof value === 'number' ? value : parseDuration(value);
}
