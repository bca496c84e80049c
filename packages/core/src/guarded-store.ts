import type { CircuitBreaker } from '@stratacache/breaker';
import { followConnection } from './connection-link';
import { Deadlines } from './deadlines';
import { StoreTimeoutError, isStoreUnavailable } from './errors';
import type { ResolvedOptions } from './options';
import type { Metrics, NsLabel } from './stats';
import type { Store } from './store';
import type { SetFailureReason } from './types';

/** Why a guarded call did not answer (internal): the result reason, the error, and whether the server answered a WRONGTYPE. */
export class StoreFailure {
  constructor(
    readonly reason: SetFailureReason,
    readonly error: unknown,
    /** The server answered, with WRONGTYPE (a foreign value of another type under the key): not a failure of the store. */
    readonly wrongType = false,
  ) {}
}

/** Flags of {@link GuardedStore.run}. */
export const enum Guard {
  NONE = 0,
  /** A long operation (SCAN + UNLINK): deadline 100 × opTimeout, at least 10 s. */
  LONG = 1,
  /** A health probe: deadline only — no breaker, no counters, no event. */
  PROBE = 2,
}

const CLOSED = new StoreFailure('unavailable', undefined);

function isWrongType(err: unknown): boolean {
  return err instanceof Error && typeof err.message === 'string' && err.message.startsWith('WRONGTYPE');
}

/**
 * The one resilience wrapper of CacheService: every Store call goes through {@link GuardedStore.run},
 * which applies the breaker (tryAcquire / onSuccess / onFailure), the operation deadline (exact at
 * `opTimeout`) and the error accounting (counters, `error` event). It never rejects: a call that could
 * not be answered resolves a {@link StoreFailure}. It also owns the background work (fire-and-forget
 * writes and deletes) and the closed state.
 */
export class GuardedStore {
  readonly store: Store;
  readonly breaker: CircuitBreaker;
  closed = false;
  private readonly deadlines: Deadlines;
  private readonly local: boolean;
  private readonly longMs: number;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly unfollow: () => void;

  constructor(
    cfg: ResolvedOptions,
    private readonly metrics: Metrics,
  ) {
    this.store = cfg.store;
    this.breaker = cfg.breaker;
    this.local = cfg.local;
    this.deadlines = new Deadlines(cfg.opTimeoutMs);
    this.longMs = Math.max(10_000, cfg.opTimeoutMs * 100);
    const offState = this.breaker.on('stateChange', (e) => {
      if (metrics.events.has('breaker')) metrics.events.emit({ type: 'breaker', source: 'l2', state: e.to });
    });
    // The breaker follows the connection: open when it drops, probe as soon as it is back.
    const unfollow = followConnection(this.store, this.breaker, cfg.opTimeoutMs);
    this.unfollow = () => {
      offState();
      unfollow();
    };
  }

  /**
   * Runs `call(store)` guarded. `op` names the operation in events and timeouts; `key` and `ns` say
   * whom a failure is reported for. Resolves the store's answer or a {@link StoreFailure}.
   */
  run<T>(op: string, call: (store: Store) => Promise<T>, key?: string, ns?: NsLabel, flags: Guard = Guard.NONE): Promise<T | StoreFailure> {
    if (this.closed) return Promise.resolve(CLOSED);
    if ((flags & Guard.PROBE) !== 0) return this.deadline(call(this.store), op, flags).catch((err: unknown) => new StoreFailure('error', err));
    const breaker = this.breaker;
    if (!breaker.tryAcquire()) return Promise.resolve(this.rejected(op, key, ns, breaker));
    let p: Promise<T>;
    try {
      p = call(this.store);
    } catch (err) {
      return Promise.resolve(this.failed(err, op, key, ns, breaker));
    }
    // No async frame and one settle step: this is the hot path of every read.
    return this.deadline(p, op, flags).then(
      (v) => {
        breaker.onSuccess();
        return v;
      },
      (err: unknown) => this.failed(err, op, key, ns, breaker),
    );
  }

  private deadline<T>(p: Promise<T>, op: string, flags: Guard): Promise<T> {
    if ((flags & Guard.LONG) !== 0) return withTimer(p, op, this.longMs);
    return this.local ? p : this.deadlines.race(p, op);
  }

  /** Records a failed call: breaker, counters, `error` event. */
  private failed(err: unknown, op: string, key: string | undefined, ns: NsLabel | undefined, breaker: CircuitBreaker): StoreFailure {
    if (isWrongType(err)) {
      // A foreign value of another type sits under the key: the server answered, so it is not a failure.
      breaker.onSuccess();
      return new StoreFailure('error', err, true);
    }
    // A part of the store (one shard) could not answer: unknown, but the store as a whole did — its own breaker covers the part.
    const partial = isStoreUnavailable(err);
    if (partial) breaker.onSuccess();
    else breaker.onFailure(err);
    const m = this.metrics;
    m.errors++;
    if (ns) ns.stats.errors++;
    const timeout = !partial && err instanceof StoreTimeoutError;
    if (timeout) m.timeouts++;
    if (m.events.has('error')) m.emitFor('error', key, ns, { kind: op, error: err });
    return new StoreFailure(partial ? 'unavailable' : timeout ? 'timeout' : 'error', err);
  }

  /** A call the open circuit refused: counted and reported as an error, reason `unavailable`. */
  private rejected(op: string, key: string | undefined, ns: NsLabel | undefined, breaker: CircuitBreaker): StoreFailure {
    const m = this.metrics;
    m.errors++;
    if (ns) ns.stats.errors++;
    const error = new Error(`circuit ${breaker.state}`);
    if (m.events.has('error')) m.emitFor('error', key, ns, { kind: op, error });
    return new StoreFailure('unavailable', error);
  }

  /** Tracks fire-and-forget work so `close()` can wait for it. */
  background(p: Promise<unknown>): void {
    this.pending.add(p);
    const done = () => this.pending.delete(p);
    p.then(done, done);
  }

  /** Deletes a corrupt or barrier-invalidated entry without making anyone wait (skipped while the circuit is open). */
  drop(key: string): void {
    if (this.closed || this.breaker.state === 'OPEN') return;
    this.background(this.run('del', (s) => s.del(key), key));
  }

  /** Waits for background work, then refuses every further call and rejects the ones still in flight. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    this.closed = true;
    this.unfollow();
    this.deadlines.stop();
  }
}

/** Per-call timer, for the rare long operations. */
function withTimer<T>(p: Promise<T>, op: string, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StoreTimeoutError(op, ms)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export function isFailure(x: unknown): x is StoreFailure {
  return x instanceof StoreFailure;
}
