import { BreakerOptionsError } from './errors';

/** Options of `new CircuitBreaker(options)`. All durations are in milliseconds. */
export interface CircuitBreakerOptions {
  /** Name used in events, stats and error messages. Default `'breaker'`. */
  name?: string;
  /** Failures inside `monitoringWindow` that open the circuit. Integer >= 1. Default 5. */
  failureThreshold?: number;
  /** Rolling window (ms) in which failures are counted. > 0, `Infinity` = failures never age out. Default 120_000. */
  monitoringWindow?: number;
  /** Time (ms) the circuit stays OPEN before the next call is let through as a probe. Finite, > 0. Default 60_000. */
  resetTimeout?: number;
  /** Probe calls let through in HALF_OPEN; all must succeed to close. Integer >= 1. Default 1. */
  halfOpenMaxCalls?: number;
  /**
   * Per-call timeout (ms) applied by `execute()` / `wrap()`. A timeout counts as a failure and
   * the caller gets a `CallTimeoutError`. 1..2_147_483_647; `undefined` or `Infinity` = no timeout (default).
   */
  callTimeout?: number | undefined;
  /** Decides whether an error counts as a failure. Errors for which it returns `false` are rethrown but not counted. Default: every error counts. */
  isFailure?: (error: unknown) => boolean;
  /** Clock (ms since epoch). Default `Date.now`. */
  now?: () => number;
  /**
   * Called when an event listener throws. Listener errors never reach the breaker or its caller.
   * Default: one `process.emitWarning` per breaker and event name.
   */
  onListenerError?: (error: unknown, event: string) => void;
}

/** Defaults of `CircuitBreakerOptions`. */
export const BREAKER_DEFAULTS = Object.freeze({
  name: 'breaker',
  failureThreshold: 5,
  monitoringWindow: 120_000,
  resetTimeout: 60_000,
  halfOpenMaxCalls: 1,
});

/** Largest accepted `failureThreshold` / `halfOpenMaxCalls` (the failure ring buffer is preallocated). */
export const MAX_COUNT_OPTION = 100_000;
/** Largest delay `setTimeout` honours; larger values would fire immediately. */
export const MAX_TIMER_MS = 2_147_483_647;

/** @internal Validated, defaulted options. */
export interface ResolvedBreakerOptions {
  name: string;
  failureThreshold: number;
  monitoringWindow: number;
  resetTimeout: number;
  halfOpenMaxCalls: number;
  /** 0 = no timeout. */
  callTimeout: number;
  isFailure: ((error: unknown) => boolean) | undefined;
  now: () => number;
  onListenerError: ((error: unknown, event: string) => void) | undefined;
}

const KNOWN_OPTIONS = new Set([
  'name',
  'failureThreshold',
  'monitoringWindow',
  'resetTimeout',
  'halfOpenMaxCalls',
  'callTimeout',
  'isFailure',
  'now',
  'onListenerError',
]);

function count(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_COUNT_OPTION) {
    throw new BreakerOptionsError(option, value, `expected an integer from 1 to ${MAX_COUNT_OPTION}`);
  }
  return value;
}

function duration(option: string, value: unknown, fallback: number, allowInfinity: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0 || (!allowInfinity && !Number.isFinite(value))) {
    throw new BreakerOptionsError(
      option,
      value,
      allowInfinity
        ? 'expected a duration in milliseconds greater than 0 (Infinity allowed)'
        : 'expected a finite duration in milliseconds greater than 0',
    );
  }
  return value;
}

function fn<F>(option: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new BreakerOptionsError(option, value, 'expected a function');
  return value as F;
}

/** @internal Validates options and fills in defaults. Throws `BreakerOptionsError`. */
export function resolveBreakerOptions(options: CircuitBreakerOptions | undefined): ResolvedBreakerOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new BreakerOptionsError('options', options, 'expected an object or undefined');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new BreakerOptionsError(key, (options as Record<string, unknown>)[key], `unknown option (known: ${[...KNOWN_OPTIONS].join(', ')})`);
    }
  }

  const name = options.name ?? BREAKER_DEFAULTS.name;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
    throw new BreakerOptionsError('name', name, 'expected a non-empty string of at most 200 characters');
  }

  let callTimeout = 0;
  const rawTimeout: unknown = options.callTimeout;
  if (rawTimeout !== undefined && rawTimeout !== Infinity) {
    if (typeof rawTimeout !== 'number' || Number.isNaN(rawTimeout) || rawTimeout <= 0 || rawTimeout > MAX_TIMER_MS) {
      throw new BreakerOptionsError(
        'callTimeout',
        rawTimeout,
        `expected a duration in milliseconds from >0 to ${MAX_TIMER_MS}, or undefined/Infinity for no timeout`,
      );
    }
    callTimeout = rawTimeout;
  }

  return {
    name,
    failureThreshold: count('failureThreshold', options.failureThreshold, BREAKER_DEFAULTS.failureThreshold),
    monitoringWindow: duration('monitoringWindow', options.monitoringWindow, BREAKER_DEFAULTS.monitoringWindow, true),
    resetTimeout: duration('resetTimeout', options.resetTimeout, BREAKER_DEFAULTS.resetTimeout, false),
    halfOpenMaxCalls: count('halfOpenMaxCalls', options.halfOpenMaxCalls, BREAKER_DEFAULTS.halfOpenMaxCalls),
    callTimeout,
    isFailure: fn('isFailure', options.isFailure),
    now: fn('now', options.now) ?? Date.now,
    onListenerError: fn('onListenerError', options.onListenerError),
  };
}
