/** The three states of a circuit breaker. */
export const CircuitState = {
  CLOSED: 'CLOSED',
  OPEN: 'OPEN',
  HALF_OPEN: 'HALF_OPEN',
} as const;

export type CircuitState = (typeof CircuitState)[keyof typeof CircuitState];

/** Why a state change happened (carried by `open` / `halfOpen` / `close` / `stateChange` events). */
export type TransitionReason =
  /** CLOSED → OPEN: `failureThreshold` failures inside `monitoringWindow`. */
  | 'threshold'
  /** OPEN → HALF_OPEN: a call arrived after `resetTimeout`. */
  | 'reset-timeout'
  /** HALF_OPEN → CLOSED: all `halfOpenMaxCalls` probes succeeded. */
  | 'probes-succeeded'
  /** HALF_OPEN → OPEN: a probe failed. */
  | 'probe-failure'
  /** HALF_OPEN → OPEN: probes were in flight longer than the probe deadline. */
  | 'probe-timeout'
  /** `trip()` or `reset()`. */
  | 'manual'
  /** CLOSED / HALF_OPEN → OPEN: `trip('connection-lost')`, the connection under the breaker closed or stopped answering. */
  | 'connection-lost'
  /** OPEN → HALF_OPEN: `probeNow()`, e.g. the connection is ready again before `resetTimeout` elapsed. */
  | 'probe-now';
