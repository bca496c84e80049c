import { CacheOptionsError } from '@stratacache/core';

/** Per-call jitter fraction (0..1), as core's TTL policy checks it. */
export function checkJitter(j: unknown): number | undefined {
  if (j === undefined) return undefined;
  if (typeof j !== 'number' || !(j >= 0 && j <= 1)) throw new CacheOptionsError(`jitter must be a fraction between 0 and 1, got ${typeof j === 'number' ? String(j) : typeof j}`);
  return j;
}

/** Same rule as core: non-empty strings of at most 256 characters. */
export function checkTags(tags: unknown): void {
  if (!Array.isArray(tags)) throw new CacheOptionsError('tags must be an array of strings');
  for (const t of tags) {
    if (typeof t !== 'string' || t.length === 0 || t.length > 256) {
      throw new CacheOptionsError(`each tag must be a non-empty string of at most 256 characters, got ${JSON.stringify(t)}`);
    }
  }
}

export function isOptionsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'E_CACHE_OPTIONS' || code === 'E_CACHE_KEY';
}
