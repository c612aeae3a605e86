/**
 * Generic Cell Rate Algorithm: `limit` requests per `window`, one number per
 * client (the theoretical arrival time, TAT), so memory per key is constant
 * whatever the limit. A fresh client may burst `limit` requests, then one more
 * every `window / limit`: no doubled burst at a window boundary as with fixed
 * windows, no per-request log as with sorted sets.
 */
export interface GcraDecision {
  readonly allowed: boolean;
  /** Requests still allowed right now. */
  readonly remaining: number;
  /** Milliseconds until the full quota is back. */
  readonly resetMs: number;
  /** Milliseconds until the next request would be admitted (0 when allowed). */
  readonly retryAfterMs: number;
}

/**
 * Float rounding must not reject the last request of a full burst: allow this
 * much slack (ms) when comparing against the window.
 */
const TOLERANCE_MS = 0.5;

/** Pure GCRA step; returns the decision and the TAT to store (undefined when rejected). */
export function gcraStep(storedTat: number | undefined, now: number, intervalMs: number, windowMs: number): [GcraDecision, number | undefined] {
  const tat = storedTat !== undefined && storedTat > now ? storedTat : now;
  const newTat = tat + intervalMs;
  const ahead = newTat - now;
  if (ahead > windowMs + TOLERANCE_MS) {
    return [{ allowed: false, remaining: 0, resetMs: Math.ceil(tat - now), retryAfterMs: Math.ceil(ahead - windowMs) }, undefined];
  }
  const remaining = Math.max(0, Math.floor((windowMs - ahead + TOLERANCE_MS) / intervalMs));
  return [{ allowed: true, remaining, resetMs: Math.ceil(ahead), retryAfterMs: 0 }, newTat];
}

/**
 * The same step as one Lua script, for every request of a batch: a request
 * costs one atomic round trip (EVALSHA) on a single Redis or a cluster (the
 * keys of one call share a slot and a limit). Keys are stepped in order, so a
 * client twice in a batch is counted twice. The clock is Redis's own (TIME),
 * so replicas with skewed clocks share one timeline.
 * KEYS = bucket keys; ARGV[1] = interval ms; ARGV[2] = window ms.
 * Returns two integers per key: `remaining` when admitted, or -1 - retryAfterMs
 * when rejected; then resetMs. (Two, not four: the reply of a batch of 50 is
 * parsed on the request path.)
 */
export const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS do
  local stored = redis.call('GET', KEYS[i])
  local tat = now
  if stored then
    local v = tonumber(stored)
    if v and v > now then tat = v end
  end
  local new_tat = tat + interval
  local ahead = new_tat - now
  if ahead > window + ${TOLERANCE_MS} then
    out[2 * i - 1] = -1 - math.ceil(ahead - window)
    out[2 * i] = math.ceil(tat - now)
  else
    redis.call('SET', KEYS[i], string.format('%.3f', new_tat), 'PX', math.max(1, math.ceil(ahead)))
    out[2 * i - 1] = math.max(0, math.floor((window - ahead + ${TOLERANCE_MS}) / interval))
    out[2 * i] = math.ceil(ahead)
  end
end
return out
`;
