/**
 * The one duration grammar of every layer: the constructs' props, the
 * ConfigMap, the Koa package's `loadConfig`, Prometheus durations in alert
 * rules and ServiceMonitors. Integer amounts of `d`, `h`, `m`, `s` and `ms`,
 * largest unit first, each at most once: `500ms`, `30s`, `1m30s`, `1h30m`, `7d`.
 * That is the common part of what Prometheus and Go accept, so a value valid
 * here is valid wherever the platform writes it. Self-contained on purpose:
 * projen copies this file into the packages that cannot depend on the platform.
 */
export class Durations {
  /** What a duration looks like, for error messages. */
  public static readonly EXPECTATION = "a duration such as '500ms', '30s', '1m30s', '1h30m' or '7d' (integer amounts of d, h, m, s, ms, largest unit first)";

  /** Milliseconds in `value`, or undefined when it is not a duration of this grammar. */
  public static tryParseMilliseconds(value: string): number | undefined {
    const m = GRAMMAR.exec(value);
    if (!m || value.length === 0) {
      return undefined;
    }
    let total = 0;
    for (let i = 0; i < UNITS_MS.length; i++) {
      if (m[i + 1] !== undefined) total += Number(m[i + 1]) * UNITS_MS[i];
    }
    return Number.isSafeInteger(total) ? total : undefined;
  }

  /** Milliseconds in `value`; throws naming `name` and the grammar when it is not a duration. */
  public static parseMilliseconds(name: string, value: string): number {
    const ms = Durations.tryParseMilliseconds(value);
    if (ms === undefined) {
      throw new Error(`Invalid ${name}: ${JSON.stringify(value)}. Expected ${Durations.EXPECTATION}.`);
    }
    return ms;
  }

  /** `90000` -> `1m30s`: the shortest spelling of a whole number of milliseconds in this grammar. */
  public static format(milliseconds: number): string {
    if (!Number.isSafeInteger(milliseconds) || milliseconds < 0) {
      throw new Error(`Invalid milliseconds: ${milliseconds}. Expected a non-negative integer.`);
    }
    if (milliseconds === 0) return '0s';
    let rest = milliseconds;
    let out = '';
    for (let i = 0; i < UNITS_MS.length; i++) {
      const n = Math.floor(rest / UNITS_MS[i]);
      if (n > 0) out += `${n}${UNIT_NAMES[i]}`;
      rest -= n * UNITS_MS[i];
    }
    return out;
  }
}

const UNIT_NAMES = ['d', 'h', 'm', 's', 'ms'];
const UNITS_MS = [86_400_000, 3_600_000, 60_000, 1000, 1];
// `m(?!s)`: the minutes group must not swallow the `m` of `ms`.
const GRAMMAR = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;
