import { DURATION_HINT, parseDuration } from '@stratacache/breaker';
import type { Duration } from '@stratacache/breaker';
import { CacheOptionsError } from './errors';

/** See `Duration` in `@stratacache/breaker` (the one parser of the workspace): ms number or `'5m'`-like string. */
export type { Duration };

/**
 * Converts a {@link Duration} to milliseconds (rounded to an integer).
 * Throws {@link CacheOptionsError} naming `optionName` for NaN, negative, infinite or unparsable input.
 * `0` is allowed (callers decide what it means and document it).
 */
export function toMs(d: Duration, optionName: string): number {
  const ms = parseDuration(d);
  if (ms !== undefined) return ms;
  if (typeof d === 'string') throw new CacheOptionsError(`${optionName}: invalid duration ${JSON.stringify(d)} (expected ${DURATION_HINT})`);
  if (typeof d === 'number') throw new CacheOptionsError(`${optionName}: duration must be a finite number of milliseconds >= 0, got ${String(d)}`);
  throw new CacheOptionsError(`${optionName}: invalid duration of type ${d === null ? 'null' : typeof d} (expected ${DURATION_HINT})`);
}
