import type { CircuitState } from './state';

/**
 * Base class of every error thrown by every stratacache package (breaker, core, lock, tiered, shard
 * and the apps). `code` is stable and listed in one table: `docs/errors.md`. It lives here, in the
 * lowest layer, so that every package can extend it without importing upward.
 */
export class StratacacheError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Base class of every error thrown by `@stratacache/breaker`. */
export abstract class BreakerError extends StratacacheError {}

function describeValue(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return `a value of type ${typeof value}`;
}

/** Thrown by the `CircuitBreaker` constructor when an option is invalid. */
export class BreakerOptionsError extends BreakerError {
  declare readonly code: 'E_BREAKER_OPTIONS';
  /** Name of the offending option (for example `failureThreshold`). */
  readonly option: string;
  /** The rejected value. */
  readonly value: unknown;

  constructor(option: string, value: unknown, expectation: string) {
    super('E_BREAKER_OPTIONS', `Invalid circuit breaker option "${option}": ${expectation}, got ${describeValue(value)}`);
    this.option = option;
    this.value = value;
  }
}

/** Thrown (without calling the protected function) while the circuit is OPEN, or HALF_OPEN with every probe slot taken. */
export class CircuitOpenError extends BreakerError {
  declare readonly code: 'E_CIRCUIT_OPEN';
  /** `name` of the breaker that rejected the call. */
  readonly breakerName: string;
  /** State of the breaker when the call was rejected. */
  readonly state: Exclude<CircuitState, 'CLOSED'>;
  /**
   * Milliseconds until the breaker will let a probe through (OPEN), or an upper bound
   * on how long the running probes may take to conclude (HALF_OPEN). Never negative.
   */
  readonly retryAfterMs: number;

  constructor(breakerName: string, state: Exclude<CircuitState, 'CLOSED'>, retryAfterMs: number) {
    super(
      'E_CIRCUIT_OPEN',
      state === 'OPEN'
        ? `Circuit "${breakerName}" is OPEN; retry after ${retryAfterMs} ms`
        : `Circuit "${breakerName}" is HALF_OPEN and all probe calls are in flight; retry after ${retryAfterMs} ms`,
    );
    this.breakerName = breakerName;
    this.state = state;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The protected call did not settle within `callTimeout` ms. Counted as a failure. */
export class CallTimeoutError extends BreakerError {
  declare readonly code: 'E_CALL_TIMEOUT';
  readonly breakerName: string;
  readonly timeoutMs: number;

  constructor(breakerName: string, timeoutMs: number) {
    super('E_CALL_TIMEOUT', `Call through circuit "${breakerName}" timed out after ${timeoutMs} ms`);
    this.breakerName = breakerName;
    this.timeoutMs = timeoutMs;
  }
}
