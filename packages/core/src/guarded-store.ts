import type { CircuitBreaker } from '@stratacache/breaker';
import type { Cluster } from 'ioredis';
import { followConnection } from './connection-link';
import { Deadlines } from './deadlines';
import type { DeadlineCall } from './deadlines';
import type { TimeoutEntry } from '@stratacache/breaker';
import { StoreTimeoutError, isStoreUnavailable } from './errors';
import { NodeBreakers } from './node-breakers';
import type { ResolvedOptions } from './options';
import { RedisStore } from './redis-store';
import type { Metrics, NsLabel } from './stats';
import type { GetSink, Store } from './store';
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
/** A call the open circuit refused (the error object is only made when someone listens). */
const REFUSED = new StoreFailure('unavailable', undefined);

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
  /** The store's breaker; on a Cluster: the connection as a whole and calls that are not tied to one key's node. */
  readonly breaker: CircuitBreaker;
  /** Per-master breakers on a Cluster store (undefined otherwise, or when one breaker instance was passed). */
  readonly nodes: NodeBreakers | undefined;
  closed = false;
  private readonly deadlines: Deadlines;
  private readonly local: boolean;
  private readonly longMs: number;
  /** Deadlines of the rare long operations (made at the first one). */
  private longDeadlines: Deadlines | undefined;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly unfollow: () => void;
  /**
   * The store is a RedisStore whose `get` is its own (not a subclass override, not a wrapper such as
   * a Proxy that counts or intercepts `get`): reads may then use its promise-free `getInto`.
   */
  private readonly plainRedis: boolean;

  constructor(
    cfg: ResolvedOptions,
    private readonly metrics: Metrics,
  ) {
    this.store = cfg.store;
    this.breaker = cfg.breaker;
    this.local = cfg.local;
    this.deadlines = new Deadlines(cfg.opTimeoutMs);
    this.plainRedis = !cfg.local && cfg.store instanceof RedisStore && cfg.store.get === RedisStore.prototype.get && cfg.store.getInto === RedisStore.prototype.getInto;
    this.longMs = Math.max(10_000, cfg.opTimeoutMs * 100);
    const offs: (() => void)[] = [];
    const report = (b: CircuitBreaker, node: string | undefined) =>
      offs.push(
        b.on('stateChange', (e) => {
          if (!metrics.events.has('breaker')) return;
          metrics.events.emit(node === undefined ? { type: 'breaker', source: 'l2', state: e.to } : { type: 'breaker', source: 'l2', state: e.to, target: node });
        }),
      );
    report(this.breaker, undefined);
    // The breaker follows the connection: open when it drops, probe as soon as it is back.
    offs.push(followConnection(this.store, this.breaker, cfg.opTimeoutMs));
    const store = this.store;
    this.nodes =
      store instanceof RedisStore && store.isCluster && cfg.breakerOptions !== undefined
        ? new NodeBreakers(store.client as Cluster, cfg.breakerOptions, this.breaker, (node, b) => report(b, node))
        : undefined;
    if (this.nodes !== undefined) offs.push(this.nodes.stop);
    this.unfollow = () => {
      for (const off of offs.splice(0)) off();
    };
  }

  /**
   * Runs `call(store)` guarded. `op` names the operation in events and timeouts; `key` and `ns` say
   * whom a failure is reported for; `route` is the key whose node's breaker guards the
   * call on a Cluster — every key of the call must live on that node (one slot, or one hash tag); a
   * call without a route uses the store's breaker. Resolves the store's answer or a {@link StoreFailure}.
   */
  run<T>(op: string, call: (store: Store) => Promise<T>, key?: string, ns?: NsLabel, flags: Guard = Guard.NONE, route?: string): Promise<T | StoreFailure> {
    if (this.closed) return Promise.resolve(CLOSED);
    if ((flags & Guard.PROBE) !== 0) return this.deadline(call(this.store), op, flags).catch((err: unknown) => new StoreFailure('error', err));
    const breaker = this.admit(op, key, ns, route);
    if (breaker instanceof StoreFailure) return Promise.resolve(breaker);
    let p: Promise<T>;
    try {
      p = call(this.store);
    } catch (err) {
      return Promise.resolve(this.failed(err, op, key, ns, breaker));
    }
    return this.settle(p, op, key, ns, breaker, (flags & Guard.LONG) !== 0 ? (this.longDeadlines ??= new Deadlines(this.longMs)) : this.deadlines);
  }

  /**
   * The breaker that admits a call routed by `route` (its node's on a Cluster, the store's otherwise),
   * or the refusal (counted, reported) when it is open.
   */
  private admit(op: string, key: string | undefined, ns: NsLabel | undefined, route: string | undefined): CircuitBreaker | StoreFailure {
    let breaker = this.breaker;
    if (this.nodes !== undefined && route !== undefined) {
      // the connection as a whole is down: refuse at once, whatever the node
      if (breaker.state === 'OPEN') return this.rejected(op, key, ns, breaker);
      breaker = this.nodes.forKey(route);
    }
    return breaker.tryAcquire() ? breaker : this.rejected(op, key, ns, breaker);
  }

  /** `run('get', (s) => s.get(k), k, ns, Guard.NONE, k)` without a closure: the hot path of every read. */
  get(k: string, ns: NsLabel | undefined): Promise<Buffer | undefined | StoreFailure> {
    if (this.closed) return Promise.resolve(CLOSED);
    const breaker = this.admit('get', k, ns, k);
    if (breaker instanceof StoreFailure) return Promise.resolve(breaker);
    const store = this.store;
    if (this.plainRedis) {
      // the store answers the deadline object itself (no promise of the store's own for this read)
      const deadlines = this.deadlines;
      return new Promise<Buffer | undefined | StoreFailure>((resolve) => {
        const call = new GuardedCall<Buffer | undefined>(this, breaker, 'get', k, ns, resolve, deadlines);
        deadlines.add(call);
        try {
          (store as RedisStore).getInto(k, call);
        } catch (err) {
          call.fail(err);
        }
      });
    }
    let p: Promise<Buffer | undefined>;
    try {
      p = store.get(k);
    } catch (err) {
      return Promise.resolve(this.failed(err, 'get', k, ns, breaker));
    }
    return this.settle(p, 'get', k, ns, breaker, this.deadlines);
  }

  /** The deadline and the breaker's accounting of a started call, in one settle step (no async frame). */
  private settle<T>(p: Promise<T>, op: string, key: string | undefined, ns: NsLabel | undefined, breaker: CircuitBreaker, deadlines: Deadlines): Promise<T | StoreFailure> {
    if (this.local && deadlines === this.deadlines) {
      return p.then(
        (v) => {
          breaker.onSuccess();
          return v;
        },
        (err: unknown) => this.failed(err, op, key, ns, breaker),
      );
    }
    return new Promise<T | StoreFailure>((resolve) => {
      deadlines.watch(p, new GuardedCall<T>(this, breaker, op, key, ns, resolve));
    });
  }

  private deadline<T>(p: Promise<T>, op: string, flags: Guard): Promise<T> {
    if ((flags & Guard.LONG) !== 0) return (this.longDeadlines ??= new Deadlines(this.longMs)).race(p, op);
    return this.local ? p : this.deadlines.race(p, op);
  }

  /** @internal Records a failed (or timed-out) call: breaker, counters, `error` event (also `GuardedCall`'s). */
  failed(err: unknown, op: string, key: string | undefined, ns: NsLabel | undefined, breaker: CircuitBreaker): StoreFailure {
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
    if (!m.events.has('error')) return REFUSED;
    const error = new Error(`circuit ${breaker.state}`);
    m.emitFor('error', key, ns, { kind: op, error });
    return new StoreFailure('unavailable', error);
  }

  /**
   * Runs a multi-key call guarded per node: on a Cluster the items are grouped by the node that owns
   * their key's slot and each group is one guarded call with that node's breaker (sent in the same
   * tick, so auto-pipelining still makes it one round trip per node); elsewhere it is one call. One
   * outcome per item, in order: the call's result for it, or the {@link StoreFailure} of its group —
   * so a dead master fails only its own items.
   */
  async runByNode<I, R>(op: string, items: readonly I[], keyOf: (item: I) => string, call: (store: Store, group: I[]) => Promise<unknown>): Promise<(R | undefined | StoreFailure)[]> {
    // `call` resolves one result per item of its group (an array), or nothing (writes)
    const out = new Array<R | undefined | StoreFailure>(items.length);
    const nodes = this.nodes;
    if (nodes === undefined || items.length === 0) {
      const r = await this.run(op, (s) => call(s, items as I[]));
      for (let i = 0; i < items.length; i++) out[i] = isFailure(r) ? r : (r as readonly R[] | undefined)?.[i];
      return out;
    }
    const groups = new Map<string | undefined, number[]>();
    for (let i = 0; i < items.length; i++) {
      const id = nodes.nodeOf(keyOf(items[i] as I));
      const g = groups.get(id);
      if (g === undefined) groups.set(id, [i]);
      else g.push(i);
    }
    await Promise.all(
      [...groups.values()].map(async (idx) => {
        const group = idx.map((i) => items[i] as I);
        const r = await this.run(op, (s) => call(s, group), undefined, undefined, Guard.NONE, keyOf(group[0] as I));
        for (let j = 0; j < idx.length; j++) out[idx[j] as number] = isFailure(r) ? r : (r as readonly R[] | undefined)?.[j];
      }),
    );
    return out;
  }

  /** The worst state of the store's breaker and (on a Cluster) every node's: OPEN > HALF_OPEN > CLOSED. */
  worstState(): CircuitBreaker['state'] {
    let worst = this.breaker.state;
    if (worst !== 'OPEN' && this.nodes !== undefined) {
      for (const b of this.nodes.all().values()) {
        const st = b.state;
        if (st === 'OPEN') return st;
        if (st === 'HALF_OPEN') worst = st;
      }
    }
    return worst;
  }

  /** The state of `key`'s breaker (its node's on a Cluster). */
  stateOf(key: string): CircuitBreaker['state'] {
    return (this.nodes?.forKey(key) ?? this.breaker).state;
  }

  /** Tracks fire-and-forget work so `close()` can wait for it. */
  background(p: Promise<unknown>): void {
    this.pending.add(p);
    const done = () => this.pending.delete(p);
    p.then(done, done);
  }

  /** Deletes a corrupt or barrier-invalidated entry without making anyone wait (skipped while the circuit is open). */
  drop(key: string): void {
    if (this.closed || this.stateOf(key) === 'OPEN') return;
    this.background(this.run('del', (s) => s.del(key), key, undefined, Guard.NONE, key));
  }

  /** Waits for background work, then refuses every further call and rejects the ones still in flight. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    this.closed = true;
    this.unfollow();
    this.deadlines.stop();
    this.longDeadlines?.stop();
  }
}

/**
 * One guarded call under a deadline: its outcome settles the caller once, with the breaker's
 * accounting. Settled by `Deadlines.watch`, or — as a `GetSink` — by the store itself (`answer` /
 * `fail`, ignored once the deadline passed).
 */
class GuardedCall<T> implements DeadlineCall<T>, GetSink {
  deadline = 0;
  prev: TimeoutEntry | undefined = undefined;
  next: TimeoutEntry | undefined = undefined;
  done = false;

  constructor(
    private readonly guard: GuardedStore,
    private readonly breaker: CircuitBreaker,
    readonly op: string,
    private readonly key: string | undefined,
    private readonly ns: NsLabel | undefined,
    private readonly resolve: (r: T | StoreFailure) => void,
    /** Set when the store answers this call directly (see `GetSink`). */
    private readonly deadlines?: Deadlines,
  ) {}

  answer(v: Buffer | undefined): void {
    if (this.done) return; // the deadline passed first
    (this.deadlines as Deadlines).remove(this);
    this.settle(v as T);
  }

  fail(err: unknown): void {
    if (this.done) return;
    (this.deadlines as Deadlines).remove(this);
    this.settleFailed(err);
  }

  settle(v: T): void {
    this.breaker.onSuccess();
    this.resolve(v);
  }

  settleFailed(err: unknown): void {
    this.resolve(this.guard.failed(err, this.op, this.key, this.ns, this.breaker));
  }

  /** Timed out (or the cache closed). */
  reject(err: unknown): void {
    this.settleFailed(err);
  }
}

/** The first failure among per-item outcomes (see `runByNode`), if any. */
export function firstFailure(outcomes: readonly unknown[]): StoreFailure | undefined {
  for (const o of outcomes) if (o instanceof StoreFailure) return o;
  return undefined;
}

export function isFailure(x: unknown): x is StoreFailure {
  return x instanceof StoreFailure;
}
