/**
 * The platform's four support levels and how Alertmanager treats each: the
 * severity that picks the receiver, the response time promised, and the
 * grouping timers. Alert rules carry the level as the `support_level` label
 * and the response time as an annotation; the routing, the runbook and the
 * amtool tests read this one table.
 */
export interface SupportLevel {
  /** 1 (basic) to 4 (emergency). */
  readonly level: number;
  /** What the level is for. */
  readonly name: string;
  /** Severity label: `critical` pages on-call, `warning` goes to chat. */
  readonly severity: 'critical' | 'warning';
  /** Time to first response. */
  readonly responseTime: string;
  /** Wait before the first notification of a new group, so related alerts arrive together. */
  readonly groupWait: string;
  /** Wait before notifying about alerts added to a group already notified. */
  readonly groupInterval: string;
  /** Resend of a still-firing group; at most the response time for pages, so an unanswered page comes back in time. */
  readonly repeatInterval: string;
}

/** Support levels, highest first (the order routes are tried in). */
export const SUPPORT_LEVELS: readonly SupportLevel[] = [
  { level: 4, name: 'emergency: the service is down or losing data', severity: 'critical', responseTime: '5m', groupWait: '10s', groupInterval: '1m', repeatInterval: '5m' },
  { level: 3, name: 'critical: users are affected or an objective is at risk', severity: 'critical', responseTime: '15m', groupWait: '30s', groupInterval: '5m', repeatInterval: '15m' },
  { level: 2, name: 'technical problem: degraded, not yet user-visible', severity: 'warning', responseTime: '30m', groupWait: '1m', groupInterval: '5m', repeatInterval: '4h' },
  { level: 1, name: 'basic issue: plan a fix within the working day', severity: 'warning', responseTime: '1h', groupWait: '5m', groupInterval: '30m', repeatInterval: '24h' },
];

/** Label carrying the support level on every alert. */
export const SUPPORT_LEVEL_LABEL = 'support_level';
/** Annotation carrying the response time on every alert. */
export const RESPONSE_TIME_ANNOTATION = 'response_time';
/** Label that sends an alert to the cost owners instead of the severity's receiver. */
export const CATEGORY_LABEL = 'category';
/** Value of {@link CATEGORY_LABEL} on budget alerts. */
export const BUDGET_CATEGORY = 'budget';

/** The level `n`. */
export function supportLevel(n: number): SupportLevel {
  const found = SUPPORT_LEVELS.find(l => l.level === n);
  if (!found) throw new Error(`unknown support level ${n}: expected 1 to 4`);
  return found;
}
