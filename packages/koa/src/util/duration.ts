import { Durations } from '../generated/duration';

/** What a duration looks like, for error messages: the one grammar every layer shares. */
export const DURATION_EXPECTATION = Durations.EXPECTATION;

/**
 * Parses a duration of the platform's one grammar (`500ms`, `30s`, `1m30s`,
 * `1h30m`, `7d`) into milliseconds. A bare number is refused on purpose: `30`
 * could mean seconds or milliseconds.
 */
export function parseDuration(value: string): number {
  const ms = Durations.tryParseMilliseconds(value.trim());
  if (ms === undefined) {
    throw new Error(`'${value}' is not ${DURATION_EXPECTATION}`);
  }
  return ms;
}

/** Accepts milliseconds or a duration string. */
export function toMs(value: number | string): number {
  return typeof value === 'number' ? value : parseDuration(value);
}
