import { parseDuration, type Duration } from '@stratacache/breaker';
import { LockOptionsError } from './errors';
import { describe } from './util';

/** Delay before retry number `attempt` (1-based), in ms, before jitter is added. */
export type RetryDelay = Duration | ((attempt: number) => number);

/**
 * Gate for every Redis round trip of a lock manager — the low-level API of a
 * `@stratacache/breaker` `CircuitBreaker`, so a breaker can be passed as is. `tryAcquire()` false:
 * nothing is sent, the call fails at once with `LockUnavailableError`; otherwise the round trip's
 * outcome is reported once (`onSuccess` when a master answered, `onFailure` when none did).
 */
export interface LockGuard {
  tryAcquire(): boolean;
  onSuccess(): void;
  onFailure(error?: unknown): void;
}

/** Options of a {@link LockManager}; each one is also the default of every call. */
export interface LockManagerOptions {
  /**
   * Share the circuit breaker (and so the connection health) of the cache the lock protects:
   * with the circuit open, `acquire`/`tryAcquire`/`extend`/`release` fail at once without a
   * network wait, and lock round trips that get no answer count as failures. Default: none.
   */
  guard?: LockGuard;
  /** Key prefix. Lock key = `${prefix}:{${resource}}`, fence counter = `${prefix}:{${resource}}:fence`. Default `'sc:lock'`. */
  prefix?: string;
  /** Lock time-to-live: ms (positive integer) or a duration string (`'10s'`). Default `10_000`. */
  ttl?: Duration;
  /** Retries after the first attempt (non-negative integer or `Infinity`). Default `10`. */
  retries?: number;
  /** Delay between attempts in ms, or a function of the attempt number (backoff). Default `100`. */
  retryDelay?: RetryDelay;
  /** Random extra delay (ms or `'50ms'`), uniform in [0, jitter), added to every retry delay. Default `50`. */
  jitter?: Duration;
  /** Redlock clock-drift factor; drift allowance = `round(ttl * driftFactor) + 2` ms. Default `0.01`. */
  driftFactor?: number;
  /** Time limit (ms or `'1s'`) for each Redis round trip (per master), so a hung Redis cannot hang acquire. Default `1_000`. */
  commandTimeout?: Duration;
  /**
   * Draw a fencing token on acquire (INCR of a persistent per-resource counter). Turn off for
   * high-cardinality short-lived resources where nothing checks fences (then `lock.fence` is 0 and
   * no counter key is created). Default `true`.
   */
  fencing?: boolean;
}

/** Per-call options of `acquire` / `tryAcquire`. */
export interface AcquireOptions {
  ttl?: Duration;
  retries?: number;
  retryDelay?: RetryDelay;
  jitter?: Duration;
  fencing?: boolean;
  /** Aborts waiting for the lock; the call rejects with `signal.reason` (an `AbortError` by default). */
  signal?: AbortSignal;
}

/** Options of `using`. */
export interface UsingOptions extends AcquireOptions {
  /** Extend the lock while `fn` runs. Default `true`. */
  autoExtend?: boolean;
  /** Interval between extensions (ms or `'3s'`; must be < ttl). Default `ceil(ttl / 3)`. */
  extendInterval?: Duration;
}

export interface ResolvedManagerOptions {
  guard: LockGuard | undefined;
  prefix: string;
  ttl: number;
  retries: number;
  retryDelay: number | ((attempt: number) => number);
  jitter: number;
  driftFactor: number;
  commandTimeout: number;
  fencing: boolean;
}

export interface ResolvedAcquireOptions {
  ttl: number;
  retries: number;
  retryDelay: number | ((attempt: number) => number);
  jitter: number;
  fencing: boolean;
  signal: AbortSignal | undefined;
}

export const DEFAULTS: ResolvedManagerOptions = Object.freeze({
  guard: undefined,
  prefix: 'sc:lock',
  ttl: 10_000,
  retries: 10,
  retryDelay: 100,
  jitter: 50,
  driftFactor: 0.01,
  commandTimeout: 1_000,
  fencing: true,
});

const MAX_TTL = 2 ** 31 - 1;
const MAX_RESOURCE_LENGTH = 4096;

function fail(where: string, message: string): never {
  throw new LockOptionsError(`${where}: ${message}`);
}

/** A duration string (`'10s'`) becomes ms through the workspace's one parser; anything else is checked as given. */
function dur(v: unknown): unknown {
  return typeof v === 'string' ? (parseDuration(v) ?? v) : v;
}

export function checkTtl(where: string, name: string, raw: unknown): number {
  const v = dur(raw);
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > MAX_TTL) {
    fail(where, `${name} must be a positive integer number of milliseconds (<= ${MAX_TTL}), got ${describe(v)}`);
  }
  return v;
}

function checkRetries(where: string, v: unknown): number {
  if (typeof v !== 'number' || !(v === Infinity || (Number.isInteger(v) && v >= 0))) {
    fail(where, `retries must be a non-negative integer or Infinity, got ${describe(v)}`);
  }
  return v;
}

function checkNonNegative(where: string, name: string, raw: unknown): number {
  const v = dur(raw);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    fail(where, `${name} must be a finite number >= 0 (ms), got ${describe(v)}`);
  }
  return v;
}

function checkRetryDelay(where: string, v: unknown): number | ((attempt: number) => number) {
  if (typeof v === 'function') return v as (attempt: number) => number;
  return checkNonNegative(where, 'retryDelay', v);
}

function checkBoolean(where: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(where, `${name} must be a boolean, got ${describe(v)}`);
  return v;
}

function checkSignal(where: string, v: unknown): AbortSignal | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || typeof (v as AbortSignal).aborted !== 'boolean' ||
      typeof (v as AbortSignal).addEventListener !== 'function') {
    fail(where, 'signal must be an AbortSignal');
  }
  return v as AbortSignal;
}

function checkObject(where: string, v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, `options must be an object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

export function resolveManagerOptions(opts: unknown): ResolvedManagerOptions {
  const where = 'LockManager';
  const o = checkObject(where, opts);
  const prefix = o.prefix ?? DEFAULTS.prefix;
  if (typeof prefix !== 'string' || prefix.length === 0) fail(where, `prefix must be a non-empty string, got ${describe(prefix)}`);
  const driftFactor = o.driftFactor ?? DEFAULTS.driftFactor;
  if (typeof driftFactor !== 'number' || !Number.isFinite(driftFactor) || driftFactor < 0 || driftFactor >= 1) {
    fail(where, `driftFactor must be a number in [0, 1), got ${describe(driftFactor)}`);
  }
  const commandTimeout = dur(o.commandTimeout ?? DEFAULTS.commandTimeout);
  if (typeof commandTimeout !== 'number' || !Number.isFinite(commandTimeout) || commandTimeout <= 0) {
    fail(where, `commandTimeout must be a positive number of ms, got ${describe(commandTimeout)}`);
  }
  const guard = o.guard;
  if (
    guard !== undefined &&
    (typeof guard !== 'object' || guard === null ||
      typeof (guard as LockGuard).tryAcquire !== 'function' ||
      typeof (guard as LockGuard).onSuccess !== 'function' ||
      typeof (guard as LockGuard).onFailure !== 'function')
  ) {
    fail(where, `guard must have tryAcquire(), onSuccess() and onFailure() (e.g. a CircuitBreaker), got ${describe(guard)}`);
  }
  return {
    guard: guard as LockGuard | undefined,
    prefix,
    ttl: checkTtl(where, 'ttl', o.ttl ?? DEFAULTS.ttl),
    retries: checkRetries(where, o.retries ?? DEFAULTS.retries),
    retryDelay: checkRetryDelay(where, o.retryDelay ?? DEFAULTS.retryDelay),
    jitter: checkNonNegative(where, 'jitter', o.jitter ?? DEFAULTS.jitter),
    driftFactor,
    commandTimeout: commandTimeout,
    fencing: checkBoolean(where, 'fencing', o.fencing ?? DEFAULTS.fencing),
  };
}

export function resolveAcquireOptions(where: string, opts: unknown, d: ResolvedManagerOptions): ResolvedAcquireOptions {
  const o = checkObject(where, opts);
  return {
    ttl: checkTtl(where, 'ttl', o.ttl ?? d.ttl),
    retries: checkRetries(where, o.retries ?? d.retries),
    retryDelay: checkRetryDelay(where, o.retryDelay ?? d.retryDelay),
    jitter: checkNonNegative(where, 'jitter', o.jitter ?? d.jitter),
    fencing: checkBoolean(where, 'fencing', o.fencing ?? d.fencing),
    signal: checkSignal(where, o.signal),
  };
}

export function resolveUsingExtras(where: string, opts: unknown, ttl: number): { autoExtend: boolean; extendInterval: number } {
  const o = checkObject(where, opts);
  const autoExtend = checkBoolean(where, 'autoExtend', o.autoExtend ?? true);
  const extendInterval = dur(o.extendInterval ?? Math.max(1, Math.ceil(ttl / 3)));
  if (typeof extendInterval !== 'number' || !Number.isInteger(extendInterval) || extendInterval <= 0 || extendInterval >= ttl) {
    fail(where, `extendInterval must be a positive integer number of ms smaller than ttl (${ttl}), got ${describe(extendInterval)}`);
  }
  return { autoExtend, extendInterval };
}

export function checkResource(where: string, resource: unknown): string {
  if (typeof resource !== 'string' || resource.length === 0) {
    fail(where, `resource must be a non-empty string, got ${describe(resource)}`);
  }
  if (resource.length > MAX_RESOURCE_LENGTH) {
    fail(where, `resource must be at most ${MAX_RESOURCE_LENGTH} characters, got ${resource.length}`);
  }
  return resource;
}
