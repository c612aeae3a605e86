/**
 * How presets meet overrides everywhere in the platform: plain objects merge
 * key by key at every depth, so `{ resources: { memoryLimit: '2Gi' } }` keeps
 * the preset's other resource fields; arrays and scalars replace. A key the
 * override sets to `undefined` clears the preset's value (that is how a preset's
 * autoscaling is switched off); an absent key keeps it.
 */
export function deepMerge<T>(base: T | undefined, ...overrides: Array<Partial<T> | undefined>): T {
  return overrides.reduce<any>((acc, override) => mergeTwo(acc, override), base);
}

function isPlainObject(value: unknown): value is { [key: string]: unknown } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  // Class instances (constructs, value objects) are values, not bags of settings.
  return proto === Object.prototype || proto === null;
}

function mergeTwo(base: unknown, override: unknown): unknown {
  if (override === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const out: { [key: string]: unknown } = { ...base };
  for (const [key, value] of Object.entries(override)) {
    out[key] = value === undefined ? undefined : mergeTwo(base[key], value);
  }
  return out;
}
