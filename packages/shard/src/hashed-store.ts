import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from '@stratacache/breaker';
import type { MessageHandler, Store, StoreEntry } from '@stratacache/core';
import { ShardConfigError, ShardUnavailableError } from './errors';
import { RendezvousHash } from './rendezvous-hash';

/** A shard of a {@link HashedStore}: a Store, or a Store with a relative weight. */
export type HashedShard = Store | { store: Store; weight?: number };

/** Options of {@link HashedStore}. */
export interface HashedStoreOptions {
  /** Named shards (at least one). Names are the hashing identity: renaming a shard moves its keys. */
  shards: Record<string, HashedShard>;
  /**
   * Per-shard circuit breaker. Default `{ failureThreshold: 5, monitoringWindow: 10_000,
   * resetTimeout: 5_000, callTimeout: 1_000 }`; `false` disables breakers and timeouts.
   * Keep `callTimeout` below the CacheService `opTimeout` so a hung shard is cut here, per shard.
   */
  breaker?: Omit<CircuitBreakerOptions, 'name'> | false;
  /**
   * What a failing shard does to reads and writes: `'degrade'` (default) rejects `get`/`mget`/
   * `set`/`mset` touching it with a typed {@link ShardUnavailableError} (`E_STORE_UNAVAILABLE`):
   * the answer is *unknown*, never "missing" — a CacheService above serves such a read as a miss,
   * never reads an unreachable barrier as "not invalidated", reports the write as `unavailable`,
   * and does not count it against its own breaker (which would cut *all* shards). `'throw'` rejects
   * with the shard's raw error like a plain Store. Invalidations (`del`, `deleteMatching`) always
   * reject with the raw error when a shard fails.
   */
  onShardError?: 'degrade' | 'throw';
  /** Shard that carries pub/sub (`publish` / `subscribe`). Default: the first shard. */
  busShard?: string;
  /** Close the shard stores in `close()`. Default `true`. */
  ownsStores?: boolean;
  /** Called on every shard failure (for logs/metrics). Must not throw. */
  onError?: (shard: string, op: string, error: unknown) => void;
}

/** Per-shard counters returned by {@link HashedStore.shardStats}. */
export interface HashedShardStats {
  shard: string;
  kind: string;
  ops: number;
  errors: number;
  /** Reads/writes rejected as unknown (ShardUnavailableError) because the shard failed (`'degrade'` mode). */
  degraded: number;
  breaker: CircuitState | 'DISABLED';
  ready: boolean;
}

interface ShardEntry {
  id: string;
  store: Store;
  breaker: CircuitBreaker | undefined;
  ops: number;
  errors: number;
  degraded: number;
}

const DEFAULT_BREAKER = Object.freeze({
  failureThreshold: 5,
  monitoringWindow: 10_000,
  resetTimeout: 5_000,
  callTimeout: 1_000,
});

/**
 * A {@link Store} that spreads keys over N named Stores with rendezvous hashing
 * ({@link RendezvousHash}): plug it into `new CacheService({ store })` (or a tiered cache) to use
 * several independent Redis servers as one cache. Adding a 5th shard to 4 moves ≈ 1/5 of the keys.
 *
 * Each shard has its own circuit breaker and call timeout, and (by default) a failing shard degrades
 * to misses for its keys only. Multi-key operations are grouped per shard; pattern deletion fans out
 * to every shard; pub/sub uses one bus shard.
 */
export class HashedStore implements Store {
  readonly kind = 'hashed';
  readonly #ring: RendezvousHash;
  readonly #shards = new Map<string, ShardEntry>();
  readonly #mode: 'degrade' | 'throw';
  readonly #bus: ShardEntry;
  readonly #owns: boolean;
  readonly #onError: ((shard: string, op: string, error: unknown) => void) | undefined;

  constructor(options: HashedStoreOptions) {
    if (!options || typeof options !== 'object') {
      throw new ShardConfigError('invalid-option', 'HashedStore', 'options object with `shards` is required');
    }
    const ids = options.shards && typeof options.shards === 'object' ? Object.keys(options.shards) : [];
    if (ids.length === 0) {
      throw new ShardConfigError('empty-shards', 'shards', 'HashedStore needs at least one shard');
    }
    if (options.onShardError !== undefined && options.onShardError !== 'degrade' && options.onShardError !== 'throw') {
      throw new ShardConfigError('invalid-option', 'onShardError', `must be 'degrade' or 'throw', got ${JSON.stringify(options.onShardError)}`);
    }
    this.#mode = options.onShardError ?? 'degrade';
    this.#owns = options.ownsStores ?? true;
    this.#onError = options.onError;
    this.#ring = new RendezvousHash();
    for (const id of ids) {
      const def = options.shards[id]!;
      const store = isStore(def) ? def : (def as { store?: Store }).store;
      if (!isStore(store)) {
        throw new ShardConfigError('invalid-option', `shards.${id}`, 'expected a Store or { store, weight }');
      }
      const weight = isStore(def) ? 1 : ((def as { weight?: number }).weight ?? 1);
      this.#ring.add(id, weight);
      const breaker =
        options.breaker === false ? undefined : new CircuitBreaker({ ...DEFAULT_BREAKER, ...options.breaker, name: `shard:${id}` });
      this.#shards.set(id, { id, store, breaker, ops: 0, errors: 0, degraded: 0 });
    }
    const busId = options.busShard ?? ids[0]!;
    const bus = this.#shards.get(busId);
    if (!bus) throw new ShardConfigError('unknown-shard', 'busShard', `"${busId}" is not one of: ${ids.join(', ')}`);
    this.#bus = bus;
  }

  /** The shard id that owns `key`. */
  shardFor(key: string): string {
    return this.#ring.pick(key);
  }

  /** Shard ids, in declaration order. */
  shardIds(): string[] {
    return [...this.#shards.keys()];
  }

  /** The Store of a shard (for inspection). */
  shardStore(id: string): Store | undefined {
    return this.#shards.get(id)?.store;
  }

  /** Counters, breaker state and readiness per shard. */
  shardStats(): HashedShardStats[] {
    return [...this.#shards.values()].map((s) => ({
      shard: s.id,
      kind: s.store.kind,
      ops: s.ops,
      errors: s.errors,
      degraded: s.degraded,
      breaker: s.breaker ? s.breaker.state : 'DISABLED',
      ready: s.store.isReady(),
    }));
  }

  #run<T>(s: ShardEntry, op: string, fn: (store: Store) => Promise<T>): Promise<T> {
    s.ops++;
    const p = s.breaker ? s.breaker.execute(() => fn(s.store)) : fn(s.store);
    return (p).catch((err: unknown) => {
      s.errors++;
      try {
        this.#onError?.(s.id, op, err);
      } catch {
        // a throwing hook must not change the outcome
      }
      throw err;
    });
  }

  /** Runs a read/write; in `'degrade'` mode a shard failure rejects with a typed ShardUnavailableError (unknown, not missing). */
  #soft<T>(s: ShardEntry, op: string, fn: (store: Store) => Promise<T>): Promise<T> {
    const p = this.#run(s, op, fn);
    if (this.#mode === 'throw') return p;
    return p.catch((err: unknown) => {
      s.degraded++;
      throw new ShardUnavailableError(s.id, op, err);
    });
  }

  #entry(key: string): ShardEntry {
    return this.#shards.get(this.#ring.pick(key))!;
  }

  #group<T>(items: readonly T[], keyOf: (t: T) => string): Map<ShardEntry, number[]> {
    const groups = new Map<ShardEntry, number[]>();
    items.forEach((item, i) => {
      const s = this.#entry(keyOf(item));
      let g = groups.get(s);
      if (!g) groups.set(s, (g = []));
      g.push(i);
    });
    return groups;
  }

  get(key: string): Promise<Buffer | undefined> {
    return this.#soft(this.#entry(key), 'get', (st) => st.get(key));
  }

  async mget(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    const out: (Buffer | undefined)[] = new Array<Buffer | undefined>(keys.length).fill(undefined);
    const groups = this.#group(keys, (k) => k);
    // One unreachable shard makes the whole answer unknown (rejects after every shard answered).
    await settleAll(
      [...groups].map(async ([s, idx]) => {
        const values = await this.#soft(s, 'mget', (st) => st.mget(idx.map((i) => keys[i]!)));
        idx.forEach((i, j) => (out[i] = values[j]));
      }),
    );
    return out;
  }

  set(key: string, value: Buffer, ttlMs?: number): Promise<void> {
    return this.#soft(this.#entry(key), 'set', (st) => st.set(key, value, ttlMs));
  }

  async mset(entries: readonly StoreEntry[]): Promise<void> {
    const groups = this.#group(entries, (e) => e.key);
    await settleAll([...groups].map(([s, idx]) => this.#soft(s, 'mset', (st) => st.mset(idx.map((i) => entries[i]!)))));
  }

  async del(keys: string | readonly string[]): Promise<number> {
    if (typeof keys === 'string') return this.#run(this.#entry(keys), 'del', (st) => st.del(keys));
    const groups = this.#group(keys, (k) => k);
    const counts = await settleAll([...groups].map(([s, idx]) => this.#run(s, 'del', (st) => st.del(idx.map((i) => keys[i]!)))));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Fans out to every shard; rejects (after all shards ran) if any shard failed. */
  async deleteMatching(glob: string): Promise<number> {
    const counts = await settleAll([...this.#shards.values()].map((s) => this.#run(s, 'deleteMatching', (st) => st.deleteMatching(glob))));
    return counts.reduce((a, b) => a + b, 0);
  }

  publish(channel: string, message: Buffer | string): Promise<number> {
    return this.#run(this.#bus, 'publish', (st) => st.publish(channel, message));
  }

  subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    // Not through the breaker: a subscription is long-lived and has its own reconnect logic.
    return this.#bus.store.subscribe(channel, handler);
  }

  /** The bus shard's clock (Redis `TIME`), when its store has one: CacheService corrects its clock against it. */
  time(): Promise<number> {
    const st = this.#bus.store;
    if (typeof st.time !== 'function') return Promise.reject(new Error(`shard ${this.#bus.id} has no clock`));
    return this.#run(this.#bus, 'time', (s) => s.time!());
  }

  /** Slowest healthy shard's round trip; rejects only when every shard is unreachable. */
  async ping(): Promise<number> {
    const results = await Promise.allSettled([...this.#shards.values()].map((s) => this.#run(s, 'ping', (st) => st.ping())));
    const ok = results.filter((r): r is PromiseFulfilledResult<number> => r.status === 'fulfilled');
    if (ok.length === 0) throw (results[0] as PromiseRejectedResult).reason;
    return Math.max(...ok.map((r) => r.value));
  }

  /** Per-shard ping: `{ shard: latencyMs | Error }`. */
  async pingShards(): Promise<Record<string, number | Error>> {
    const out: Record<string, number | Error> = {};
    await Promise.all(
      [...this.#shards.values()].map(async (s) => {
        try {
          out[s.id] = await this.#run(s, 'ping', (st) => st.ping());
        } catch (e) {
          out[s.id] = e instanceof Error ? e : new Error(String(e));
        }
      }),
    );
    return out;
  }

  /** True when at least one shard is ready (the others degrade). */
  isReady(): boolean {
    for (const s of this.#shards.values()) if (s.store.isReady()) return true;
    return false;
  }

  async close(): Promise<void> {
    if (!this.#owns) return;
    await Promise.allSettled([...this.#shards.values()].map((s) => s.store.close()));
  }
}

function isStore(x: unknown): x is Store {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as Store).get === 'function' &&
    typeof (x as Store).set === 'function' &&
    typeof (x as Store).deleteMatching === 'function'
  );
}

/** Like Promise.all but waits for every promise before rejecting with the first error. */
async function settleAll<T>(ps: Promise<T>[]): Promise<T[]> {
  const rs = await Promise.allSettled(ps);
  const failed = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return rs.map((r) => (r as PromiseFulfilledResult<T>).value);
}
