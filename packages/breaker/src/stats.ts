import type { CircuitState } from './state';

/** Snapshot returned by `CircuitBreaker#stats()`. Counters are totals since construction (`reset()` does not clear them). */
export interface BreakerStats {
  name: string;
  state: CircuitState;
  /** Counted failures younger than `monitoringWindow` (only tracked while CLOSED; cleared on every state change). */
  failuresInWindow: number;
  successes: number;
  failures: number;
  /** Calls refused by `tryAcquire()` / `execute()` while OPEN or HALF_OPEN. */
  rejections: number;
  /** Calls that exceeded `callTimeout` (also counted in `failures`). */
  timeouts: number;
  lastFailureAt: number | null;
  lastStateChangeAt: number;
  /** When the circuit last opened; `null` unless the state is OPEN. */
  openedAt: number | null;
}

/** Numeric settings of a breaker, as returned by `CircuitBreaker#options`. */
export interface BreakerSettings {
  readonly name: string;
  readonly failureThreshold: number;
  readonly monitoringWindow: number;
  readonly resetTimeout: number;
  readonly halfOpenMaxCalls: number;
  readonly callTimeout: number | undefined;
}
