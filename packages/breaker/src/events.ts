import type { CircuitState, TransitionReason } from './state';

/** Payload of `open`, `halfOpen`, `close` and `stateChange`. */
export interface StateChangeEvent {
  name: string;
  from: CircuitState;
  to: CircuitState;
  /** Clock time of the change (ms). */
  at: number;
  reason?: TransitionReason;
}

/** Payload of `reject`: a call was refused without running. */
export interface RejectEvent {
  name: string;
  at: number;
  state: Exclude<CircuitState, 'CLOSED'>;
  retryAfterMs: number;
}

/** Payload of `failure`: a call failed and the failure was counted. */
export interface FailureEvent {
  name: string;
  error: unknown;
  at: number;
}

/** Payload of `success`. */
export interface SuccessEvent {
  name: string;
  at: number;
}

/** Event name → payload. */
export interface BreakerEvents {
  open: StateChangeEvent;
  halfOpen: StateChangeEvent;
  close: StateChangeEvent;
  stateChange: StateChangeEvent;
  reject: RejectEvent;
  failure: FailureEvent;
  success: SuccessEvent;
}

export type BreakerEventName = keyof BreakerEvents;
export type BreakerListener<K extends BreakerEventName> = (event: BreakerEvents[K]) => void;

/** @internal */
export const EVENT_NAMES: readonly BreakerEventName[] = ['open', 'halfOpen', 'close', 'stateChange', 'reject', 'failure', 'success'];

/**
 * @internal Minimal typed emitter: one listener array per event (replaced, never mutated, so
 * emitting iterates a stable snapshot), `undefined` when nobody listens so callers can skip
 * building the payload. Listener errors are caught and handed to `onError`.
 */
export class BreakerEmitter {
  /** Read directly by the breaker to skip payload allocation when empty. */
  readonly listeners: { [K in BreakerEventName]: BreakerListener<K>[] | undefined } = {
    open: undefined,
    halfOpen: undefined,
    close: undefined,
    stateChange: undefined,
    reject: undefined,
    failure: undefined,
    success: undefined,
  };

  constructor(private readonly onError: (error: unknown, event: BreakerEventName) => void) {}

  on<K extends BreakerEventName>(event: K, listener: BreakerListener<K>): () => void {
    if (!EVENT_NAMES.includes(event)) {
      throw new TypeError(`Unknown circuit breaker event "${String(event)}" (known: ${EVENT_NAMES.join(', ')})`);
    }
    if (typeof listener !== 'function') throw new TypeError(`Listener for "${event}" must be a function`);
    const current = this.listeners[event];
    (this.listeners[event] as BreakerListener<K>[]) = current === undefined ? [listener] : [...current, listener];
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.off(event, listener);
    };
  }

  off<K extends BreakerEventName>(event: K, listener: BreakerListener<K>): void {
    const current = this.listeners[event];
    if (current === undefined) return;
    const index = current.indexOf(listener);
    if (index === -1) return;
    const next = current.length === 1 ? undefined : [...current.slice(0, index), ...current.slice(index + 1)];
    // tsc needs the assertion to assign through a generic index (typescript-eslint sees it as a no-op)
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    (this.listeners[event] as BreakerListener<K>[] | undefined) = next;
  }

  emit<K extends BreakerEventName>(event: K, listeners: readonly BreakerListener<K>[], payload: BreakerEvents[K]): void {
    for (let i = 0; i < listeners.length; i++) {
      try {
        (listeners[i] as BreakerListener<K>)(payload);
      } catch (error) {
        try {
          this.onError(error, event);
        } catch {
          // An error handler that throws is ignored: nothing may break the breaker.
        }
      }
    }
  }
}
