/**
 * Generic Cell Rate Algorithm: `limit` requests per `window`, one number per
 * client (the theoretical arrival time, TAT), so memory per key is constant
 * whatever the limit. A fresh client may burst `limit` requests, then one more
 * every `window / limit`: no doubled burst at a window boundary as with fixed
 * windows, no per-request log as with sorted sets.
 *
 * The arithmetic is in requests, not milliseconds: what a client owes ("debt",
 * the TAT less now, divided by the interval) grows by exactly 1 per admitted
 * request, so a burst's count and `RateLimit-Remaining` are exact integers at
 * any rate. (A TAT in epoch milliseconds is a double with 0.24 µs steps, so
 * each step of a 6 µs interval was rounded by up to 2 %, and a tolerance in
 * milliseconds admitted `tolerance / interval` extra requests at high limits.)
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
 * Slack, in requests, for the rounding of the one division (elapsed time over
 * the interval) that turns time into requests; far below one request, so it
 * never admits an extra one. A burst's debt is an exact integer and needs none.
 */
export const GCRA_SLACK = 1e-6;

/**
 * Pure GCRA step: the decision for one more request of a client that owes
 * `debt` requests right now (0 for a fresh client), against `limit` requests
 * per `limit * intervalMs`. Admitted, the client then owes `debt + 1`.
 */
export function gcraStep(debt: number, limit: number, intervalMs: number): GcraDecision {
  const owed = debt + 1;
  if (owed > limit + GCRA_SLACK) {
    return { allowed: false, remaining: 0, resetMs: Math.ceil(debt * intervalMs), retryAfterMs: Math.ceil((owed - limit) * intervalMs) };
  }
  return { allowed: true, remaining: Math.floor(limit - owed + GCRA_SLACK), resetMs: Math.ceil(owed * intervalMs), retryAfterMs: 0 };
}

/** Keys per MGET in the script: Lua's unpack fails past its C stack (about 8000 values). */
const MGET_CHUNK = 1000;

/**
 * The same step as one Lua script, for every request of a batch: a request
 * costs one atomic round trip (EVALSHA) on a single Redis or a cluster (the
 * keys of one call share a slot and a limit). Each client is sent once with
 * the number of its requests in the batch, which are stepped in turn, so a
 * burst from one client costs Redis one key and the call's size follows the
 * number of clients, not of requests. The clock is Redis's own (TIME), so
 * replicas with skewed clocks share one timeline.
 * A key holds "<µs since the epoch, an exact integer> <debt in requests>"
 * (%.17g: the double read back is the one written). A plain number is the
 * TAT in ms of earlier versions and is converted, so a rolling deploy keeps
 * every client's quota.
 * KEYS = distinct bucket keys; ARGV[1] = limit; ARGV[2] = window ms;
 * ARGV[2 + i] = requests for KEYS[i].
 * Returns two values per key: the debt before this call (%.17g) and how many
 * of its requests were admitted (the first ones: a rejection leaves the debt
 * as it is, so every later one is rejected too). The n-th request's decision
 * is then gcraStep(debt + min(n, admitted)), evaluated with the same
 * arithmetic as here, so both sides agree on every admission.
 */
export const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
-- Formatted once per call: a 16-digit %.0f per key cost Redis about 1 µs each.
local stamp = string.format('%.0f ', now)
local limit = tonumber(ARGV[1])
local interval = tonumber(ARGV[2]) * 1000 / limit
-- One MGET instead of a GET per key (each redis.call costs more than the GET), in
-- chunks: unpack is bounded by Lua's C stack.
local stored = {}
for first = 1, #KEYS, ${MGET_CHUNK} do
  local values = redis.call('MGET', unpack(KEYS, first, math.min(first + ${MGET_CHUNK - 1}, #KEYS)))
  for j = 1, #values do stored[first + j - 1] = values[j] end
end
local out = {}
for i = 1, #KEYS do
  local debt = 0
  local value = stored[i]
  if value then
    local space = string.find(value, ' ', 1, true)
    if space then
      local at = tonumber(string.sub(value, 1, space - 1))
      local owed = tonumber(string.sub(value, space + 1))
      if at and owed then debt = owed - (now - at) / interval end
    else
      local tat = tonumber(value)
      if tat then debt = (tat * 1000 - now) / interval end
    end
    if debt < 0 then debt = 0 end
  end
  local requests = tonumber(ARGV[2 + i])
  local admitted = 0
  while admitted < requests and debt + admitted + 1 <= limit + ${GCRA_SLACK} do admitted = admitted + 1 end
  if admitted > 0 then
    local owed = debt + admitted
    redis.call('SET', KEYS[i], stamp .. string.format('%.17g', owed), 'PX', math.max(1, math.ceil(owed * interval / 1000)))
  end
  out[2 * i - 1] = string.format('%.17g', debt)
  out[2 * i] = admitted
end
return out
`;
