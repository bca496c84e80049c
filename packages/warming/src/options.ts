import { toMs, type Duration } from '@stratacache/core';
import type { Redis, RedisOptions } from 'ioredis';
import { WarmingOptionsError } from './errors';
import type { WarmCache, WarmCandidateSource } from './types';

export interface RateLimit {
  /** At most `max` origin calls (job starts) per `duration`, across every process of the queue. */
  max: number;
  duration: Duration;
}

export interface OriginOptions {
  concurrency?: number;
  rateLimit?: RateLimit;
}

export interface SmartOptions {
  source: WarmCandidateSource;
  /** How often the candidates are read (≤ 1 min). Default `'1m'`. */
  every?: Duration;
  /** Origin calls smart warming may make per minute, all processes together. Default 60. */
  budgetPerMinute?: number;
  /** A candidate needs at least this many observed requests. Default 2. */
  minRequests?: number;
}

export interface WarmerOptions {
  cache: WarmCache;
  /** Redis (URL, ioredis options or a client) for the BullMQ queues; omitted = in process (embedded). */
  redis?: string | RedisOptions | Redis;
  /** Key prefix of the queues. Default `'sc:warm'` (use a `{hash tag}` on a Redis Cluster). */
  prefix?: string;
  /** Jobs run at once per origin in this process. Default 8. */
  concurrency?: number;
  /** Rate limit of the default origin. Default none. */
  rateLimit?: RateLimit;
  /** Per-origin concurrency / rate limit (one queue each). At most 32 origins. */
  origins?: Record<string, OriginOptions>;
  /** Attempts per job (first run + retries). Default 3. */
  attempts?: number;
  /** Exponential backoff: `delay × 2^(attempt-1)`, ± `jitter` fraction. Default 200 ms, 0.5. */
  backoff?: { delay?: Duration; jitter?: number };
  /** Failed jobs kept (dead-letter) per origin. Default 1000. */
  keepFailed?: number;
  /** Completed jobs kept per origin (for inspection). Default 100. */
  keepCompleted?: number;
  /** Re-warm a warmed key after it is invalidated. Default true. */
  rewarmOnInvalidate?: boolean;
  /** Re-warms after invalidation wait this long, coalescing bursts. Default 100 ms. */
  debounce?: Duration;
  /** BullMQ job lock: a worker that stops renewing it (killed) loses the job after this. Default 30 s. */
  lockDuration?: Duration;
  /** How often stalled jobs (of killed workers) are handed to another worker. Default 30 s. */
  stalledInterval?: Duration;
  /** Default deadline of `ready()`. Default 30 s. */
  readyTimeout?: Duration;
  /** Default time `close()` lets running jobs finish before handing them back. Default 10 s. */
  shutdownTimeout?: Duration;
  /** Run workers in this process. Default true (false = only enqueue, e.g. in a web process). */
  worker?: boolean;
  smart?: SmartOptions;
}

export const MAX_ORIGINS = 32;
export const MAX_CONCURRENCY = 1024;
export const MAX_ATTEMPTS = 100;
export const DEFAULT_ORIGIN = 'default';

export const WARMING_DEFAULTS = {
  prefix: 'sc:warm',
  concurrency: 8,
  attempts: 3,
  backoffDelayMs: 200,
  backoffJitter: 0.5,
  keepFailed: 1_000,
  keepCompleted: 100,
  debounceMs: 100,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  readyTimeoutMs: 30_000,
  shutdownTimeoutMs: 10_000,
  smartEveryMs: 60_000,
  smartBudgetPerMinute: 60,
  smartMinRequests: 2,
} as const;

export interface ResolvedOrigin {
  name: string;
  concurrency: number;
  rateLimit: { max: number; durationMs: number } | undefined;
}

export interface ResolvedOptions {
  prefix: string;
  origins: Map<string, ResolvedOrigin>;
  attempts: number;
  backoffDelayMs: number;
  backoffJitter: number;
  keepFailed: number;
  keepCompleted: number;
  rewarmOnInvalidate: boolean;
  debounceMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  readyTimeoutMs: number;
  shutdownTimeoutMs: number;
  worker: boolean;
  smart: { source: WarmCandidateSource; everyMs: number; budgetPerMinute: number; minRequests: number } | undefined;
}

function int(v: unknown, name: string, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new WarmingOptionsError(`${name} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  return v;
}

function ms(v: Duration | undefined, name: string, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  let n: number;
  try {
    n = toMs(v, name);
  } catch (err) {
    throw new WarmingOptionsError((err as Error).message);
  }
  if (n < min) throw new WarmingOptionsError(`${name} must be at least ${min} ms`);
  return n;
}

function rate(r: RateLimit | undefined, name: string): ResolvedOrigin['rateLimit'] {
  if (r === undefined) return undefined;
  if (typeof r !== 'object' || r === null) throw new WarmingOptionsError(`${name} must be { max, duration }`);
  return { max: int(r.max, `${name}.max`, 1, 1_000_000, 0), durationMs: ms(r.duration, `${name}.duration`, 0, 1) };
}

export function resolveOptions(o: WarmerOptions): ResolvedOptions {
  if (typeof o !== 'object' || o === null) throw new WarmingOptionsError('Warmer options must be an object');
  if (typeof o.cache?.set !== 'function') throw new WarmingOptionsError('cache must have set(key, value, options)');
  const prefix = o.prefix ?? WARMING_DEFAULTS.prefix;
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > 100) throw new WarmingOptionsError('prefix must be a string of 1..100 characters');
  const concurrency = int(o.concurrency, 'concurrency', 1, MAX_CONCURRENCY, WARMING_DEFAULTS.concurrency);
  const origins = new Map<string, ResolvedOrigin>();
  origins.set(DEFAULT_ORIGIN, { name: DEFAULT_ORIGIN, concurrency, rateLimit: rate(o.rateLimit, 'rateLimit') });
  for (const [name, oo] of Object.entries(o.origins ?? {})) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new WarmingOptionsError(`origin name ${JSON.stringify(name)} must match [A-Za-z0-9._-]{1,64}`);
    origins.set(name, {
      name,
      concurrency: int(oo.concurrency, `origins.${name}.concurrency`, 1, MAX_CONCURRENCY, concurrency),
      rateLimit: rate(oo.rateLimit, `origins.${name}.rateLimit`),
    });
  }
  if (origins.size > MAX_ORIGINS) throw new WarmingOptionsError(`at most ${MAX_ORIGINS} origins`);
  const jitter = o.backoff?.jitter ?? WARMING_DEFAULTS.backoffJitter;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) throw new WarmingOptionsError('backoff.jitter must be in 0..1');
  let smart: ResolvedOptions['smart'];
  if (o.smart !== undefined) {
    if (typeof o.smart.source?.topKeys !== 'function') throw new WarmingOptionsError('smart.source must have topKeys(n)');
    smart = {
      source: o.smart.source,
      everyMs: ms(o.smart.every, 'smart.every', WARMING_DEFAULTS.smartEveryMs, 100),
      budgetPerMinute: int(o.smart.budgetPerMinute, 'smart.budgetPerMinute', 1, 100_000, WARMING_DEFAULTS.smartBudgetPerMinute),
      minRequests: int(o.smart.minRequests, 'smart.minRequests', 1, 1_000_000, WARMING_DEFAULTS.smartMinRequests),
    };
    if (smart.everyMs > 60_000) throw new WarmingOptionsError('smart.every must be at most 1 minute (the budget is per minute)');
  }
  return {
    prefix,
    origins,
    attempts: int(o.attempts, 'attempts', 1, MAX_ATTEMPTS, WARMING_DEFAULTS.attempts),
    backoffDelayMs: ms(o.backoff?.delay, 'backoff.delay', WARMING_DEFAULTS.backoffDelayMs),
    backoffJitter: jitter,
    keepFailed: int(o.keepFailed, 'keepFailed', 0, 100_000, WARMING_DEFAULTS.keepFailed),
    keepCompleted: int(o.keepCompleted, 'keepCompleted', 0, 100_000, WARMING_DEFAULTS.keepCompleted),
    rewarmOnInvalidate: o.rewarmOnInvalidate ?? true,
    debounceMs: ms(o.debounce, 'debounce', WARMING_DEFAULTS.debounceMs),
    lockDurationMs: ms(o.lockDuration, 'lockDuration', WARMING_DEFAULTS.lockDurationMs, 500),
    stalledIntervalMs: ms(o.stalledInterval, 'stalledInterval', WARMING_DEFAULTS.stalledIntervalMs, 100),
    readyTimeoutMs: ms(o.readyTimeout, 'readyTimeout', WARMING_DEFAULTS.readyTimeoutMs),
    shutdownTimeoutMs: ms(o.shutdownTimeout, 'shutdownTimeout', WARMING_DEFAULTS.shutdownTimeoutMs),
    worker: o.worker ?? true,
    smart,
  };
}

/** Exponential backoff with jitter: `delay × 2^(attempt-1)`, then ± `jitter` of it. */
export function backoffMs(attempt: number, delayMs: number, jitter: number, random = Math.random): number {
  const base = delayMs * 2 ** Math.max(0, attempt - 1);
  return Math.round(base * (1 - jitter + 2 * jitter * random()));
}
