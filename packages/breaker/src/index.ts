export { CircuitBreaker } from './circuit-breaker';
export type { BreakerSettings, BreakerStats } from './circuit-breaker';
export { BREAKER_DEFAULTS } from './options';
export type { CircuitBreakerOptions } from './options';
export { CircuitState } from './state';
export type { TransitionReason } from './state';
export { StratacacheError, BreakerError, BreakerOptionsError, CallTimeoutError, CircuitOpenError } from './errors';
export type {
  BreakerEventName,
  BreakerEvents,
  BreakerListener,
  FailureEvent,
  RejectEvent,
  StateChangeEvent,
  SuccessEvent,
} from './events';
export { parseDuration, DURATION_HINT } from './duration';
export type { Duration } from './duration';
export { TimeoutQueue } from './timeout-queue';
export type { TimeoutEntry } from './timeout-queue';
