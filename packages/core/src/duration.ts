import { CacheOptionsError } from './errors';

/**
 * A duration: a number of milliseconds, or a string such as `'250ms'`, `'30s'`, `'5m'`, `'2h'`, `'1d'`.
 * A bare numeric string (`'1500'`) is milliseconds too. One unit everywhere: milliseconds.
 */
export type Duration =
  | number
  | `${number}ms`
  | `${number}s`
  | `${number}m`
  | `${number}h`
  | `${number}d`
  | string;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION_RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)?\s*$/i;

/**
 * Converts a {@link Duration} to milliseconds (rounded to an integer).
 * Throws {@link CacheOptionsError} naming `optionName` for NaN, negative, infinite or unparsable input.
 * `0` is allowed (callers decide what it means and document it).
 */
export function toMs(d: Duration, optionName: string): number {
  let ms: number;
  if (typeof d === 'number') {
    ms = d;
  } else if (typeof d === 'string') {
    const m = DURATION_RE.exec(d);
    if (!m) {
      throw new CacheOptionsError(
        `${optionName}: invalid duration ${JSON.stringify(d)} (expected milliseconds or a string like '250ms', '30s', '5m', '2h', '1d')`,
      );
    }
    const unit = (m[2] ?? 'ms').toLowerCase();
    ms = Number(m[1]) * (UNIT_MS[unit] ?? 1);
  } else {
    throw new CacheOptionsError(
      `${optionName}: invalid duration of type ${d === null ? 'null' : typeof d} (expected milliseconds or a string like '5m')`,
    );
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw new CacheOptionsError(`${optionName}: duration must be a finite number of milliseconds >= 0, got ${String(d)}`);
  }
  return Math.round(ms);
}
