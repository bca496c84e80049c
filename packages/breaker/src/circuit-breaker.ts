import { CallTimeoutError, CircuitOpenError } from './errors';
import { BreakerEmitter, type BreakerEventName, type BreakerListener, type StateChangeEvent } from './events';
import { FailureWindow } from './failure-window';
import { resolveBreakerOptions, type CircuitBreakerOptions, type ResolvedBreakerOptions } from './options';
import { defaultListenerErrorHandler } from './listener-errors';
import type { BreakerSettings, BreakerStats } from './stats';
import { CircuitState, type TransitionReason } from './state';
import { TimeoutQueue, type TimeoutEntry } from './timeout-queue';

export type { BreakerSettings, BreakerStats } from './stats';

/**
 * Per-epoch completion handlers. A new one is created on every state change, so a call that was
 * admitted in an earlier state and settles late cannot move the state machine (its outcome still
 * counts in the totals). Reusing one object per epoch means `execute()` allocates no closure per call.
 */
interface Settler {
  readonly ok: () => void;
  readonly fail: (error: unknown) => void;
  readonly timeout: (error: CallTimeoutError) => void;
}

/** A call waiting for its `callTimeout`. */
interface PendingCall extends TimeoutEntry {
  readonly settler: Settler;
  readonly reject: (error: unknown) => void;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Circuit breaker with CLOSED / OPEN / HALF_OPEN states and a rolling failure window.
 *
 * - CLOSED: calls run; `failureThreshold` counted failures within `monitoringWindow` open the circuit.
 * - OPEN: calls fail fast with `CircuitOpenError`; the first call after `resetTimeout` moves to HALF_OPEN.
 * - HALF_OPEN: up to `halfOpenMaxCalls` probe calls run; all succeed → CLOSED, any fails → OPEN.
 *
 * No timers are kept: time-based transitions happen lazily when a call arrives.
 */
export class CircuitBreaker {
  readonly name: string;
  readonly #opts: ResolvedBreakerOptions;
  readonly #settings: BreakerSettings;
  readonly #now: () => number;
  readonly #window: FailureWindow;
  readonly #emitter: BreakerEmitter;
  /** Deadline for HALF_OPEN probes that never report an outcome. */
  readonly #probeDeadline: number;
  /** Shared deadline timer for `callTimeout`; undefined when no timeout is configured. */
  readonly #timeoutQueue: TimeoutQueue<PendingCall> | undefined;

  #state: CircuitState = CircuitState.CLOSED;
  #epoch = 0;
  #settler: Settler;

  #openedAt = 0;
  #lastStateChangeAt: number;
  #probesIssued = 0;
  #probesOutstanding = 0;
  #probeSuccesses = 0;
  #lastProbeGrantAt = 0;

  #successes = 0;
  #failures = 0;
  #rejections = 0;
  #timeouts = 0;
  #lastFailureAt: number | null = null;

  /** Details of the last rejection, read by `execute()` to build its `CircuitOpenError`. */
  #rejectState: 'OPEN' | 'HALF_OPEN' = 'OPEN';
  #rejectRetryAfter = 0;

  /** @throws {BreakerOptionsError} when an option is invalid. */
  constructor(options?: CircuitBreakerOptions) {
    const opts = resolveBreakerOptions(options);
    this.#opts = opts;
    this.#settings = Object.freeze({
      name: opts.name,
      failureThreshold: opts.failureThreshold,
      monitoringWindow: opts.monitoringWindow,
      resetTimeout: opts.resetTimeout,
      halfOpenMaxCalls: opts.halfOpenMaxCalls,
      callTimeout: opts.callTimeout === 0 ? undefined : opts.callTimeout,
    });
    this.name = opts.name;
    this.#now = opts.now;
    this.#window = new FailureWindow(opts.failureThreshold);
    this.#emitter = new BreakerEmitter(opts.onListenerError ?? defaultListenerErrorHandler(opts.name));
    this.#probeDeadline = Math.max(opts.resetTimeout, opts.callTimeout);
    this.#settler = this.#createSettler();
    this.#lastStateChangeAt = this.#now();
    this.#timeoutQueue =
      opts.callTimeout === 0 ? undefined : new TimeoutQueue<PendingCall>(opts.callTimeout, (call) => this.#expire(call));
  }

  /** The validated options with defaults applied (frozen; `callTimeout` is `undefined` when there is none). */
  get options(): BreakerSettings {
    return this.#settings;
  }

  /** Current state. Pure read: an OPEN circuit whose `resetTimeout` elapsed still reads OPEN until the next call. */
  get state(): CircuitState {
    return this.#state;
  }

  /** `true` while the state is OPEN. */
  isOpen(): boolean {
    return this.#state === CircuitState.OPEN;
  }

  // ---------------------------------------------------------------- high-level API

  /**
   * Runs `fn` through the breaker. Rejects with `CircuitOpenError` without calling `fn` while the
   * circuit refuses calls, and with `CallTimeoutError` when `callTimeout` is set and exceeded.
   * Errors of `fn` are rethrown unchanged (counted as failures unless `isFailure` says otherwise).
   */
  execute<T>(fn: () => T): Promise<Awaited<T>> {
    if (typeof fn !== 'function') {
      return Promise.reject(new TypeError('CircuitBreaker#execute expects a function'));
    }
    return this.#invoke(fn, undefined, undefined) as Promise<Awaited<T>>;
  }

  /** Returns a function with the same parameters (and `this`) as `fn` whose calls go through `execute()`. */
  wrap<A extends unknown[], R, This = unknown>(
    fn: (this: This, ...args: A) => R,
  ): (this: This, ...args: A) => Promise<Awaited<R>> {
    if (typeof fn !== 'function') throw new TypeError('CircuitBreaker#wrap expects a function');
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const breaker = this;
    const wrapped = function (this: This, ...args: A): Promise<Awaited<R>> {
      return breaker.#invoke(fn as (...a: unknown[]) => unknown, this, args) as Promise<Awaited<R>>;
    };
    Object.defineProperty(wrapped, 'name', { value: fn.name, configurable: true });
    return wrapped;
  }

  #invoke(fn: (...args: unknown[]) => unknown, thisArg: unknown, args: unknown[] | undefined): Promise<unknown> {
    if (!this.tryAcquire()) {
      return Promise.reject(new CircuitOpenError(this.name, this.#rejectState, this.#rejectRetryAfter));
    }
    const settler = this.#settler;
    let result: unknown;
    try {
      result = args === undefined ? fn() : Reflect.apply(fn, thisArg, args);
    } catch (error) {
      settler.fail(error);
      return Promise.reject(error);
    }
    let promise: Promise<unknown>;
    if (result instanceof Promise) promise = result;
    else if (isThenable(result)) promise = Promise.resolve(result);
    else {
      settler.ok();
      return Promise.resolve(result);
    }
    if (this.#opts.callTimeout === 0) {
      // Record the outcome on a side branch and hand the caller the original promise: the caller
      // pays no extra microtask, and our handlers (registered first) run before the caller resumes.
      promise.then(settler.ok, settler.fail);
      return promise;
    }
    return this.#withTimeout(promise, settler);
  }

  #withTimeout(promise: Promise<unknown>, settler: Settler): Promise<unknown> {
    const queue = this.#timeoutQueue as TimeoutQueue<PendingCall>;
    return new Promise((resolve, reject) => {
      const call: PendingCall = { deadline: 0, prev: undefined, next: undefined, done: false, settler, reject };
      queue.add(call);
      promise.then(
        (value) => {
          if (call.done) return; // timed out already
          queue.remove(call);
          settler.ok();
          resolve(value);
        },
        (error: unknown) => {
          if (call.done) return;
          queue.remove(call);
          settler.fail(error);
          reject(error);
        },
      );
    });
  }

  #expire(call: PendingCall): void {
    const error = new CallTimeoutError(this.name, this.#opts.callTimeout);
    call.settler.timeout(error);
    call.reject(error);
  }

  // ---------------------------------------------------------------- low-level API

  /**
   * Asks for permission to make one call. `true`: make the call, then report its outcome with
   * `onSuccess()` or `onFailure(err)` (exactly once — in HALF_OPEN the permit is a probe slot).
   * `false`: do not call; the rejection is counted and a `reject` event emitted. Allocation-free
   * (apart from event payloads when someone listens); in CLOSED it does not even read the clock.
   */
  tryAcquire(): boolean {
    const state = this.#state;
    if (state === CircuitState.CLOSED) return true;
    const now = this.#now();
    const opts = this.#opts;
    if (state === CircuitState.OPEN) {
      if (now < this.#openedAt) this.#openedAt = now; // the clock went backwards
      const elapsed = now - this.#openedAt;
      if (elapsed >= opts.resetTimeout) {
        this.#apply(CircuitState.HALF_OPEN, now);
        this.#probesIssued = 1;
        this.#probesOutstanding = 1;
        this.#lastProbeGrantAt = now;
        this.#emitTransition(CircuitState.OPEN, CircuitState.HALF_OPEN, 'reset-timeout', now);
        return true;
      }
      return this.#reject(now, 'OPEN', opts.resetTimeout - elapsed);
    }
    // HALF_OPEN
    if (this.#probesIssued < opts.halfOpenMaxCalls) {
      this.#probesIssued++;
      this.#probesOutstanding++;
      this.#lastProbeGrantAt = now;
      return true;
    }
    const sinceGrant = now - this.#lastProbeGrantAt;
    if (this.#probesOutstanding > 0 && sinceGrant >= this.#probeDeadline) {
      // Probes never reported back (hung call without callTimeout, or a lost onSuccess/onFailure).
      this.#apply(CircuitState.OPEN, now);
      this.#emitTransition(CircuitState.HALF_OPEN, CircuitState.OPEN, 'probe-timeout', now);
      return this.#reject(now, 'OPEN', opts.resetTimeout);
    }
    return this.#reject(now, 'HALF_OPEN', this.#probeDeadline - Math.max(0, sinceGrant));
  }

  /** Reports that a call admitted by `tryAcquire()` succeeded. */
  onSuccess(): void {
    this.#success();
  }

  /**
   * Reports that a call admitted by `tryAcquire()` failed. The error goes through `isFailure`:
   * errors that are not failures release the permit without counting.
   */
  onFailure(error?: unknown): void {
    if (this.#isFailure(error)) this.#failure(error, false);
    else this.#neutral();
  }

  // ---------------------------------------------------------------- manual control

  /** Forces the circuit CLOSED and clears the failure window. Counters are kept. */
  reset(): void {
    const now = this.#now();
    if (this.#state === CircuitState.CLOSED) {
      this.#window.clear();
      return;
    }
    const from = this.#state;
    this.#apply(CircuitState.CLOSED, now);
    this.#emitTransition(from, CircuitState.CLOSED, 'manual', now);
  }

  /**
   * Forces the circuit OPEN. `'manual'` (default): again for a full `resetTimeout` if it already is.
   * `'connection-lost'` (the connection under the breaker closed or stopped answering): an already
   * OPEN circuit keeps its `openedAt`, so repeated connection events never push the probe back.
   */
  trip(reason: 'manual' | 'connection-lost' = 'manual'): void {
    if (reason !== 'manual' && reason !== 'connection-lost') {
      throw new TypeError(`CircuitBreaker#trip: reason must be 'manual' or 'connection-lost', got ${String(reason)}`);
    }
    const now = this.#now();
    if (this.#state === CircuitState.OPEN) {
      if (reason === 'manual') this.#openedAt = now;
      return;
    }
    const from = this.#state;
    this.#apply(CircuitState.OPEN, now);
    this.#emitTransition(from, CircuitState.OPEN, reason, now);
  }

  /**
   * Ends the OPEN wait early: OPEN → HALF_OPEN now (`reason: 'probe-now'`), so the next call (or
   * `tryAcquire()`) is let through as a probe instead of waiting for `resetTimeout`. Call it when
   * you know the dependency is back (the connection is ready again, a PING answered); the probe
   * still decides. `resetTimeout` stays the upper bound of the wait. Returns `true` when the state
   * changed; a no-op (`false`) in CLOSED and HALF_OPEN.
   */
  probeNow(): boolean {
    if (this.#state !== CircuitState.OPEN) return false;
    const now = this.#now();
    this.#apply(CircuitState.HALF_OPEN, now);
    this.#emitTransition(CircuitState.OPEN, CircuitState.HALF_OPEN, 'probe-now', now);
    return true;
  }

  // ---------------------------------------------------------------- observation

  stats(): BreakerStats {
    const now = this.#now();
    return {
      name: this.name,
      state: this.#state,
      failuresInWindow:
        this.#state === CircuitState.CLOSED ? this.#window.count(now, this.#opts.monitoringWindow) : 0,
      successes: this.#successes,
      failures: this.#failures,
      rejections: this.#rejections,
      timeouts: this.#timeouts,
      lastFailureAt: this.#lastFailureAt,
      lastStateChangeAt: this.#lastStateChangeAt,
      openedAt: this.#state === CircuitState.OPEN ? this.#openedAt : null,
    };
  }

  /** Subscribes to an event; returns a function that unsubscribes. A throwing listener never affects the breaker. */
  on<K extends BreakerEventName>(event: K, listener: BreakerListener<K>): () => void {
    return this.#emitter.on(event, listener);
  }

  /** Removes a listener added with `on()`. */
  off<K extends BreakerEventName>(event: K, listener: BreakerListener<K>): void {
    this.#emitter.off(event, listener);
  }

  // ---------------------------------------------------------------- internals

  #createSettler(): Settler {
    const epoch = this.#epoch;
    return {
      ok: () => {
        if (epoch === this.#epoch) this.#success();
        else this.#staleSuccess();
      },
      fail: (error: unknown) => {
        if (epoch === this.#epoch) this.onFailure(error);
        else if (this.#isFailure(error)) this.#countFailure(error, false);
      },
      timeout: (error: CallTimeoutError) => {
        if (epoch === this.#epoch) this.#failure(error, true);
        else this.#countFailure(error, true);
      },
    };
  }

  #isFailure(error: unknown): boolean {
    const filter = this.#opts.isFailure;
    if (filter === undefined) return true;
    try {
      return Boolean(filter(error));
    } catch {
      return true; // a broken filter must not hide failures
    }
  }

  #success(): void {
    this.#successes++;
    let close = false;
    if (this.#state === CircuitState.HALF_OPEN && this.#probesOutstanding > 0) {
      this.#probesOutstanding--;
      this.#probeSuccesses++;
      close = this.#probeSuccesses >= this.#opts.halfOpenMaxCalls;
    }
    const listeners = this.#emitter.listeners.success;
    if (!close) {
      if (listeners !== undefined) this.#emitter.emit('success', listeners, { name: this.name, at: this.#now() });
      return;
    }
    const now = this.#now();
    this.#apply(CircuitState.CLOSED, now);
    if (listeners !== undefined) this.#emitter.emit('success', listeners, { name: this.name, at: now });
    this.#emitTransition(CircuitState.HALF_OPEN, CircuitState.CLOSED, 'probes-succeeded', now);
  }

  #staleSuccess(): void {
    this.#successes++;
    const listeners = this.#emitter.listeners.success;
    if (listeners !== undefined) this.#emitter.emit('success', listeners, { name: this.name, at: this.#now() });
  }

  /** A counted failure of a call admitted in the current state. */
  #failure(error: unknown, timedOut: boolean): void {
    const now = this.#countStats(error, timedOut);
    let reason: TransitionReason | undefined;
    if (this.#state === CircuitState.CLOSED) {
      if (this.#window.record(now, this.#opts.monitoringWindow)) reason = 'threshold';
    } else if (this.#state === CircuitState.HALF_OPEN && this.#probesOutstanding > 0) {
      this.#probesOutstanding--;
      reason = 'probe-failure';
    }
    if (reason === undefined) {
      this.#emitFailure(error, now);
      return;
    }
    const from = this.#state;
    this.#apply(CircuitState.OPEN, now);
    this.#emitFailure(error, now);
    this.#emitTransition(from, CircuitState.OPEN, reason, now);
  }

  /** A failure of a call admitted in an earlier state: counted in totals only. */
  #countFailure(error: unknown, timedOut: boolean): void {
    this.#emitFailure(error, this.#countStats(error, timedOut));
  }

  #countStats(_error: unknown, timedOut: boolean): number {
    const now = this.#now();
    this.#failures++;
    if (timedOut) this.#timeouts++;
    this.#lastFailureAt = now;
    return now;
  }

  #emitFailure(error: unknown, at: number): void {
    const listeners = this.#emitter.listeners.failure;
    if (listeners !== undefined) this.#emitter.emit('failure', listeners, { name: this.name, error, at });
  }

  /** An error that `isFailure` rejected: neither success nor failure; a HALF_OPEN probe slot is released. */
  #neutral(): void {
    if (this.#state === CircuitState.HALF_OPEN && this.#probesOutstanding > 0) {
      this.#probesOutstanding--;
      this.#probesIssued--;
    }
  }

  #reject(now: number, state: 'OPEN' | 'HALF_OPEN', retryAfterMs: number): false {
    this.#rejections++;
    const retryAfter = Math.max(0, Math.ceil(retryAfterMs));
    this.#rejectState = state;
    this.#rejectRetryAfter = retryAfter;
    const listeners = this.#emitter.listeners.reject;
    if (listeners !== undefined) {
      this.#emitter.emit('reject', listeners, { name: this.name, at: now, state, retryAfterMs: retryAfter });
    }
    return false;
  }

  /** Moves to `to` (state variables only; events are emitted separately so they see a consistent breaker). */
  #apply(to: CircuitState, now: number): void {
    this.#state = to;
    this.#epoch++;
    this.#settler = this.#createSettler();
    this.#lastStateChangeAt = now;
    this.#window.clear();
    this.#probesIssued = 0;
    this.#probesOutstanding = 0;
    this.#probeSuccesses = 0;
    if (to === CircuitState.OPEN) this.#openedAt = now;
  }

  #emitTransition(from: CircuitState, to: CircuitState, reason: TransitionReason, at: number): void {
    const listeners = this.#emitter.listeners;
    // All three events share the StateChangeEvent payload, hence the narrowing cast.
    const specificName = (to === CircuitState.OPEN ? 'open' : to === CircuitState.HALF_OPEN ? 'halfOpen' : 'close') as 'open';
    const specific = listeners[specificName];
    const generic = listeners.stateChange;
    if (specific === undefined && generic === undefined) return;
    const payload: StateChangeEvent = { name: this.name, from, to, at, reason };
    if (specific !== undefined) this.#emitter.emit(specificName, specific, payload);
    if (generic !== undefined) this.#emitter.emit('stateChange', generic, payload);
  }
}
