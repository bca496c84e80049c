import type { CircuitState } from '@stratacache/breaker';

/** Where a value (or a latency) came from. Upper layers add `'l1'`. */
export type CacheSource = 'l1' | 'l2' | 'origin';

export type CacheEventType =
  | 'hit'
  | 'miss'
  | 'set'
  | 'delete'
  | 'invalidate'
  | 'error'
  | 'corrupt'
  | 'too_large'
  | 'bypass'
  | 'origin'
  | 'breaker'
  | 'sampled_hit';

/** One observation. Only the fields that make sense for the event type are set. */
export interface CacheEvent {
  type: CacheEventType;
  source: CacheSource;
  /** Full Redis key (with prefix). */
  key?: string;
  entity?: string;
  operation?: string;
  /** `entity:operation` (or `entity`) — the grouping used by `stats().byNamespace`. */
  namespace?: string;
  latencyMs?: number;
  /** Encoded size in bytes (hit, set, too_large). */
  bytes?: number;
  /** set: `ttlMs`; invalidate: what kind of target. */
  ttlMs?: number;
  /** invalidate: `'key' | 'pattern' | 'tag' | 'namespace' | 'clear'`; error: the store operation. */
  kind?: string;
  /** invalidate: the pattern / tag / namespace; */
  target?: string;
  /**
   * invalidate: keys deleted now (barrier invalidations delete lazily: 0). sampled_hit: the hits this
   * sample stands for (the sampling interval, `hitSampleEvery`).
   */
  count?: number;
  /** invalidate: false when the store could not apply it (then `reason` says why; an `error` event was emitted too). */
  ok?: boolean;
  /** invalidate with `ok: false`: `'unavailable' | 'timeout' | 'error'`. */
  reason?: string;
  /** error: the error (a store failure, timeout, or open circuit); never thrown at the caller. */
  error?: unknown;
  /** breaker: the new circuit state. */
  state?: CircuitState;
}

export type CacheEventListener = (event: CacheEvent) => void;

/**
 * Minimal typed emitter: listeners per type plus `'*'`; `has(type)` lets the hot path skip building
 * the event object entirely when nobody listens. A throwing listener never breaks a cache call: it is
 * counted (`listenerErrors`) and handed to `onListenerError` when set.
 * Type-specific listeners run before `'*'` listeners, each in subscription order; `on()` returns an
 * idempotent unsubscribe function.
 *
 * Generic over the event shape (any object with a string `type`) so upper layers with their own
 * event types reuse it — `@stratacache/tiered` uses `new CacheEventEmitter<TieredEvent>()`.
 */
export class CacheEventEmitter<E extends { type: string } = CacheEvent> {
  private readonly byType = new Map<E['type'] | '*', ((event: E) => void)[]>();
  private readonly any: ((event: E) => void)[] = [];
  private readonly counts: Record<string, number> = Object.create(null) as Record<string, number>;
  /** Listener calls that threw (the cache call itself is never affected). */
  listenerErrors = 0;
  /**
   * Called with the error and the event when a listener throws, instead of the error being lost.
   * A handler that throws is ignored. Default: none (errors are only counted in `listenerErrors`).
   */
  onListenerError: ((error: unknown, event: E) => void) | undefined;

  on(type: E['type'] | '*', listener: (event: E) => void): () => void {
    if (type === '*') this.any.push(listener);
    else {
      const list = this.byType.get(type) ?? [];
      list.push(listener);
      this.byType.set(type, list);
      this.counts[type] = list.length;
    }
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      if (type === '*') remove(this.any, listener);
      else {
        const list = this.byType.get(type);
        if (list) {
          remove(list, listener);
          this.counts[type] = list.length;
        }
      }
    };
  }

  /** True when at least one listener would receive an event of this type. */
  has(type: E['type']): boolean {
    return this.any.length !== 0 || (this.counts[type] ?? 0) !== 0;
  }

  emit(event: E): void {
    const list = this.byType.get(event.type);
    if (list) for (const l of list.slice()) this.call(l, event);
    for (const l of this.any.slice()) this.call(l, event);
  }

  private call(l: (event: E) => void, e: E): void {
    try {
      l(e);
    } catch (err) {
      // observers must never break the cache: count it and hand it to onListenerError
      this.listenerErrors++;
      const h = this.onListenerError;
      if (h !== undefined) {
        try {
          h(err, e);
        } catch {
          // a throwing error handler is ignored
        }
      }
    }
  }

  clear(): void {
    this.byType.clear();
    this.any.length = 0;
    for (const k of Object.keys(this.counts)) delete this.counts[k];
  }
}

function remove<E>(list: ((event: E) => void)[], l: (event: E) => void): void {
  const i = list.indexOf(l);
  if (i !== -1) list.splice(i, 1);
}
