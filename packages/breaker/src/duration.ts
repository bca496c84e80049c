/**
 * A duration: a number of milliseconds, or a string such as `'250ms'`, `'30s'`, `'5m'`, `'2h'`, `'1d'`
 * (also `'.5s'`, `'1.5m'`). A bare numeric string (`'1500'`) is milliseconds too. One unit everywhere:
 * milliseconds. This is the one parser of the workspace (it lives in the lowest layer so that every
 * package — core, lock, tiered, shard, the apps — reads durations the same way).
 */
export type Duration = number | `${number}${'' | 'ms' | 's' | 'm' | 'h' | 'd'}` | (string & {});

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION_RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)?\s*$/i;

/** How a valid duration looks, for error messages. */
export const DURATION_HINT = "milliseconds or a string like '250ms', '30s', '5m', '2h', '1d'";

/**
 * Parses a {@link Duration} to whole milliseconds (rounded). Returns `undefined` for anything that is
 * not a finite duration >= 0 (NaN, negative, infinite, unparsable, wrong type); callers turn that into
 * their own typed error. `0` is a valid duration (callers decide what it means).
 */
export function parseDuration(d: unknown): number | undefined {
  let ms: number;
  if (typeof d === 'number') ms = d;
  else if (typeof d === 'string') {
    const m = DURATION_RE.exec(d);
    if (!m) return undefined;
    ms = Number(m[1]) * (UNIT_MS[(m[2] ?? 'ms').toLowerCase()] ?? 1);
  } else return undefined;
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return Math.round(ms);
}
