import type { ResolvedOptions } from './options';

/** Schedule id of the smart-warming tick. */
export const SMART_SCHEDULE = 'smart';

/**
 * The keys one smart tick warms: analytics' top-K, keys read at least `minRequests` times that
 * missed, most misses first (then most requests), that a declared entry or loader can load — at most
 * `budgetPerMinute × every / 1 min` per tick, so all processes together stay within the budget (one
 * tick runs per interval).
 */
export function pickCandidates(s: NonNullable<ResolvedOptions['smart']>, loadable: (key: string) => boolean): string[] {
  const budget = Math.max(1, Math.floor((s.budgetPerMinute * s.everyMs) / 60_000));
  return s.source
    .topKeys(Math.min(1_000, budget * 4 + 16))
    .filter((c) => c.requests >= s.minRequests && c.misses > 0)
    .sort((a, b) => b.misses - a.misses || b.requests - a.requests)
    .map((c) => c.key)
    .filter(loadable)
    .slice(0, budget);
}
