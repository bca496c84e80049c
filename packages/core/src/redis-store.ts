import { Redis } from 'ioredis';
import type { Cluster, RedisOptions } from 'ioredis';
import { ConnectionMonitor } from './connection-monitor';
import { CacheOptionsError, StoreClosedError } from './errors';
import { ReadOrLockBatcher, WriteAndReleaseBatcher, redisExtendLock, redisReadOrLock, redisWriteAndRelease } from './fused-lock';
import { keySlot } from './node-breakers';
import { ReadBatcher } from './read-batcher';
import type { ConnectionListener, GetSink, LockClaim, MessageHandler, ReadOrLockReply, Store, StoreEntry, StorePublish } from './store';

/** A Redis connection the store can use: a single-server client or a Cluster client. */
export type RedisClient = Redis | Cluster;

/** Where to connect: a `redis://` URL, ioredis options, or an existing `Redis` / `Cluster` instance. */
export type RedisInput = string | RedisOptions | RedisClient;

export interface RedisStoreOptions {
  /** Close the client in `close()`. Default: true when the store created the client, false for a passed-in instance. */
  ownsClient?: boolean;
  /** `COUNT` hint for SCAN in `deleteMatching`. Default 1000. */
  scanCount?: number;
  /** Keys per UNLINK on a single server. Default 500. */
  deleteBatch?: number;
  /**
   * A connection whose commands get no reply for this long is treated as down (a SIGSTOPped or
   * wedged server keeps TCP open, so ioredis never notices): `isReady()` turns false, commands are
   * refused at once and a PING is sent every `hungAfterMs` until the server answers again.
   * Detected between 1× and 1.5× this value. Default 500 ms. Not used on a Cluster, where each
   * master's breaker cuts a hung master (a connection-wide verdict would cut the live masters too).
   */
  hungAfterMs?: number;
  /**
   * How single-key reads (`get`) are sent. `'adaptive'` (default): a read with nothing else in
   * flight is written at once (no auto-pipelining tick), reads arriving while one is in flight are
   * coalesced into one `MGET` (per hash slot on a Cluster). `'pipeline'`: every `get` is one `GET`
   * through the client as configured (ioredis auto-pipelining when enabled). See the README's
   * *Batching* for the measurements behind the default.
   */
  readBatching?: 'adaptive' | 'pipeline';
}

/**
 * Client options the store applies when it creates the connection (yours win when you pass options):
 * auto-pipelining on, at most one retry per command, a 2 s connect timeout, a capped reconnect backoff.
 * Whatever the client's options, the store never lets a command wait in ioredis' offline queue
 * while the connection is down: once the connection was ready (or its first attempt failed), a
 * command issued while it is not ready is refused at once (`StoreUnavailableError`), and commands
 * issued during the very first connect are refused as soon as that attempt fails.
 */
export const DEFAULT_REDIS_OPTIONS: Readonly<RedisOptions> = Object.freeze({
  enableAutoPipelining: true,
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
  enableReadyCheck: true,
  retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
});

function isRedisClient(x: unknown): x is RedisClient {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as { isCluster?: unknown }).isCluster === 'boolean' &&
    typeof (x as { sendCommand?: unknown }).sendCommand === 'function'
  );
}

/**
 * {@link Store} on Redis through ioredis 5, for a single server or a Cluster (never silently replaced
 * by a plain client). Pattern deletion uses SCAN on every master plus UNLINK (one key per command on a
 * Cluster, auto-pipelined, so no CROSSSLOT). Pub/sub uses a lazily created duplicate connection.
 */
export class RedisStore implements Store {
  readonly kind: 'redis' | 'redis-cluster';
  /** The underlying ioredis client (a `Cluster` when the store runs on a Cluster). */
  readonly client: RedisClient;
  readonly isCluster: boolean;
  private readonly ownsClient: boolean;
  private readonly scanCount: number;
  private readonly deleteBatch: number;
  private subscriber: RedisClient | undefined;
  private subscriberReady: Promise<RedisClient> | undefined;
  private readonly handlers = new Map<string, Set<MessageHandler>>();
  private closed = false;
  private readonly monitor: ConnectionMonitor;
  private readonly batcher: ReadBatcher | undefined;
  /** Fused reads coalesced into one script call (a single server with adaptive batching). */
  private readonly lockBatcher: ReadOrLockBatcher | undefined;
  /** The fused miss's writes of one tick coalesced into one script call (a single server with adaptive batching). */
  private readonly writeBatcher: WriteAndReleaseBatcher | undefined;
  /** The last connection error seen (message only; never contains credentials from the URL). */
  get lastError(): string | undefined {
    return this.monitor.lastError;
  }

  constructor(input: RedisInput = {}, opts: RedisStoreOptions = {}) {
    if (isRedisClient(input)) {
      this.client = input;
      this.ownsClient = opts.ownsClient ?? false;
    } else if (typeof input === 'string') {
      if (!/^rediss?:\/\//i.test(input)) {
        throw new CacheOptionsError(`redis: expected a redis:// or rediss:// URL, got a string that is not one`);
      }
      this.client = new Redis(input, { ...DEFAULT_REDIS_OPTIONS });
      this.ownsClient = opts.ownsClient ?? true;
    } else if (typeof input === 'object' && input !== null) {
      this.client = new Redis({ ...DEFAULT_REDIS_OPTIONS, ...input });
      this.ownsClient = opts.ownsClient ?? true;
    } else {
      throw new CacheOptionsError(`redis: expected a URL, ioredis options, or a Redis/Cluster instance`);
    }
    this.isCluster = this.client.isCluster;
    this.kind = this.isCluster ? 'redis-cluster' : 'redis';
    this.scanCount = positiveInt(opts.scanCount ?? 1000, 'scanCount');
    this.deleteBatch = positiveInt(opts.deleteBatch ?? 500, 'deleteBatch');
    this.monitor = new ConnectionMonitor(this.client, this.kind, positiveInt(opts.hungAfterMs ?? 500, 'hungAfterMs'));
    const batching = opts.readBatching ?? 'adaptive';
    if (batching !== 'adaptive' && batching !== 'pipeline') throw new CacheOptionsError(`readBatching: expected 'adaptive' or 'pipeline'`);
    this.batcher = batching === 'adaptive' ? new ReadBatcher(this.client, this.isCluster, this.monitor) : undefined;
    this.lockBatcher = batching === 'adaptive' && !this.isCluster ? new ReadOrLockBatcher(this.client, () => this.flushWrites()) : undefined;
    this.writeBatcher = batching === 'adaptive' && !this.isCluster ? new WriteAndReleaseBatcher(this.client) : undefined;
    const status = this.client.status;
    // lazyConnect: start connecting now, so the first reader does not pay for the connection (and,
    // with the offline queue disabled, is not refused while it is being established).
    if (status === 'wait') this.client.connect().catch(() => undefined);
  }

  onConnectionChange(listener: ConnectionListener): () => void {
    return this.monitor.onConnectionChange(listener);
  }

  /**
   * A new connection with the same options (a Cluster for a Cluster), for blocking use. The caller
   * owns it and must `quit()` it. Not needed for pub/sub: `subscribe` multiplexes every channel on
   * one subscriber connection that the store watches (see `onConnectionChange`).
   */
  duplicate(): RedisClient {
    const dup = this.isCluster ? (this.client as Cluster).duplicate() : (this.client as Redis).duplicate();
    dup.on('error', this.monitor.recordError);
    return dup;
  }

  private check(): void {
    this.flushWrites();
    const why = this.monitor.refusal();
    if (why) throw why;
  }

  private send<T>(run: () => Promise<T>): Promise<T> {
    this.flushWrites();
    return this.monitor.send(run);
  }

  /** Sends the queued fused writes first: no later command of this store overtakes them (see `WriteAndReleaseBatcher`). */
  private flushWrites(): void {
    if (this.writeBatcher?.queued === true) this.writeBatcher.flush();
  }

  // get/mget are the hot path: no async frame, no per-call closure while the connection is ready.
  get(key: string): Promise<Buffer | undefined> {
    this.flushWrites();
    if (this.monitor.up()) {
      if (this.batcher !== undefined) return this.batcher.get(key);
      return this.monitor.track(this.client.getBuffer(key)).then(nullToUndefined);
    }
    return this.send(() => this.client.getBuffer(key)).then(nullToUndefined);
  }

  /** `get` into a sink (see `Store.getInto`): a coalesced read with no promise of its own. */
  getInto(key: string, sink: GetSink): void {
    this.flushWrites();
    if (this.batcher !== undefined && this.monitor.up()) {
      this.batcher.getInto(key, sink);
      return;
    }
    this.get(key).then(
      (v) => sink.answer(v),
      (err: unknown) => sink.fail(err),
    );
  }

  mget(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    if (keys.length === 0) return this.closed ? Promise.reject(new StoreClosedError(this.kind)) : Promise.resolve([]);
    if (this.isCluster) return this.send(() => this.clusterMget(keys));
    return this.send(() => this.client.mgetBuffer(keys as string[])).then(nullsToUndefined);
  }

  /** One MGET per hash slot, all sent at once (no CROSSSLOT); results back in the callers' order. */
  private async clusterMget(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    const groups = groupBySlot(keys, (k) => k, this.keyPrefix);
    const out = new Array<Buffer | undefined>(keys.length);
    await Promise.all(
      [...groups.values()].map(async (idx) => {
        const vals = await this.client.mgetBuffer(idx.map((i) => keys[i] as string));
        for (let j = 0; j < idx.length; j++) out[idx[j] as number] = vals[j] ?? undefined;
      }),
    );
    return out;
  }

  private get keyPrefix(): string | undefined {
    const o = this.client.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } };
    return o.keyPrefix ?? o.redisOptions?.keyPrefix;
  }

  async set(key: string, value: Buffer, ttlMs?: number): Promise<void> {
    if (ttlMs === undefined) await this.send(() => this.client.set(key, value));
    else {
      const ttl = validTtl(ttlMs);
      await this.send(() => this.client.set(key, value, 'PX', ttl));
    }
  }

  async mset(entries: readonly StoreEntry[]): Promise<void> {
    for (const e of entries) if (e.ttlMs !== undefined) validTtl(e.ttlMs);
    if (entries.length === 0) return;
    if (!this.isCluster) {
      // Auto-pipelining (or one pipeline) sends these in one write.
      await this.send(() => this.pipelineSet(entries, entries.map((_, i) => i)));
      return;
    }
    // Cluster: one pipeline per hash slot (no CROSSSLOT), all slots in parallel.
    const groups = groupBySlot(entries, (e) => e.key, this.keyPrefix);
    await this.send(() => Promise.all([...groups.values()].map((idx) => this.pipelineSet(entries, idx))));
  }

  private async pipelineSet(entries: readonly StoreEntry[], idx: readonly number[]): Promise<void> {
    const p = this.client.pipeline();
    for (const i of idx) {
      const e = entries[i] as StoreEntry;
      if (e.ttlMs === undefined) p.set(e.key, e.value);
      else p.set(e.key, e.value, 'PX', Math.round(e.ttlMs));
    }
    const res = await p.exec();
    for (const [err] of res ?? []) if (err) throw err;
  }

  async del(keys: string | readonly string[]): Promise<number> {
    if (typeof keys === 'string') return this.send(() => this.client.unlink(keys));
    this.check();
    if (keys.length === 0) return 0;
    if (this.isCluster) {
      const counts = await this.send(() => Promise.all(keys.map((k) => this.client.unlink(k))));
      return counts.reduce((a, b) => a + b, 0);
    }
    let n = 0;
    for (let i = 0; i < keys.length; i += this.deleteBatch) {
      n += await this.send(() => this.client.unlink(...(keys.slice(i, i + this.deleteBatch))));
    }
    return n;
  }

  async deleteMatching(glob: string): Promise<number> {
    this.check();
    let nodes: Redis[] = this.isCluster ? (this.client as Cluster).nodes('master') : [this.client as Redis];
    if (this.isCluster && nodes.length === 0) {
      // Slots not discovered yet (just created / reconnecting): wait for the cluster, then ask again.
      await this.client.ping();
      nodes = (this.client as Cluster).nodes('master');
      if (nodes.length === 0) throw new Error('deleteMatching: no Cluster master is known');
    }
    const counts = await Promise.all(nodes.map((node) => this.deleteOnNode(node, glob)));
    return counts.reduce((a, b) => a + b, 0);
  }

  private async deleteOnNode(node: Redis, glob: string): Promise<number> {
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await node.scanBuffer(cursor, 'MATCH', glob, 'COUNT', this.scanCount);
      cursor = next.toString();
      if (keys.length === 0) continue;
      if (this.isCluster) {
        // One key per UNLINK through the cluster client: routed by slot, pipelined, never CROSSSLOT.
        const counts = await Promise.all(keys.map((k) => this.client.unlink(k)));
        for (const c of counts) n += c;
      } else {
        for (let i = 0; i < keys.length; i += this.deleteBatch) {
          n += await node.unlink(...keys.slice(i, i + this.deleteBatch));
        }
      }
    } while (cursor !== '0');
    return n;
  }

  /** The fused miss's read: one EVALSHA (entry + lock, and `also` on a single server). See `Store.readOrLock`. */
  readOrLock(key: string, claim: LockClaim, force: boolean, also: readonly string[] = []): Promise<ReadOrLockReply> {
    if (this.isCluster && also.length > 0) return Promise.reject(new CacheOptionsError('readOrLock: no extra keys on a Cluster (read them in parallel)'));
    validTtl(claim.ttlMs);
    const b = this.lockBatcher;
    return this.send(() => (b !== undefined ? b.run(key, claim, force, also) : redisReadOrLock(this.client, key, claim, force, also)));
  }

  /** The fused miss's write: SET + owner-only lock release + PUBLISH in one EVALSHA. See `Store.writeAndRelease`. */
  writeAndRelease(key: string, value: Buffer | undefined, ttlMs: number, claim: LockClaim, publish?: StorePublish): Promise<boolean> {
    if (value !== undefined) validTtl(ttlMs);
    const b = this.writeBatcher;
    // (not `send`: it would flush the batch this write is meant to join)
    return this.monitor.send(() => (b !== undefined ? b.run(key, value, ttlMs, claim, publish) : redisWriteAndRelease(this.client, key, value, ttlMs, claim, publish)));
  }

  extendLock(claim: LockClaim): Promise<boolean> {
    validTtl(claim.ttlMs);
    return this.send(() => redisExtendLock(this.client, claim));
  }

  async publish(channel: string, message: Buffer | string): Promise<number> {
    return this.send(() => this.client.publish(channel, message));
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    this.check();
    const sub = await this.getSubscriber();
    const wrapped: MessageHandler = (m, c) => handler(m, c);
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      set.add(wrapped);
      try {
        await sub.subscribe(channel);
      } catch (err) {
        set.delete(wrapped);
        if (set.size === 0) this.handlers.delete(channel);
        throw err;
      }
    } else {
      set.add(wrapped);
    }
    return async () => {
      const s = this.handlers.get(channel);
      if (!s || !s.delete(wrapped)) return;
      if (s.size === 0) {
        this.handlers.delete(channel);
        if (!this.closed) await sub.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  private getSubscriber(): Promise<RedisClient> {
    if (!this.subscriberReady) {
      const sub = this.duplicate();
      this.subscriber = sub;
      this.monitor.watchSubscriber(sub, () => [...this.handlers.keys()]);
      sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
        const name = channel.toString();
        const set = this.handlers.get(name);
        if (!set) return;
        for (const h of set) {
          try {
            h(message, name);
          } catch {
            // one throwing handler must not starve the others
          }
        }
      });
      this.subscriberReady = Promise.resolve(sub);
    }
    return this.subscriberReady;
  }

  /** Round trip in ms; on a Cluster every known master must answer (the slowest counts). */
  async ping(): Promise<number> {
    const t0 = performance.now();
    const masters = this.isCluster ? (this.client as Cluster).nodes('master') : [];
    if (masters.length === 0) await this.send(() => this.client.ping());
    else await this.send(() => Promise.all(masters.map((m) => m.ping())));
    return performance.now() - t0;
  }

  /** Redis server time (`TIME`) in epoch ms, for CacheService's clock correction. */
  async time(): Promise<number> {
    this.check();
    const [sec, usec] = await this.send(() => this.client.time());
    return Number(sec) * 1000 + Number(usec) / 1000;
  }

  /** False while the connection is down, reconnecting, or hung (no reply within `hungAfterMs`). */
  isReady(): boolean {
    return this.monitor.isReady();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushWrites(); // queued writes go out before QUIT
    this.closed = true;
    // QUIT is not auto-pipelined: wait for the writes still held back (or on the wire), unless the server is hung
    if (this.writeBatcher !== undefined && this.monitor.up()) await this.writeBatcher.settled(1_000);
    this.monitor.close();
    const closing: Promise<unknown>[] = [];
    if (this.subscriber) closing.push(quitOrDisconnect(this.subscriber));
    if (this.ownsClient) closing.push(quitOrDisconnect(this.client));
    this.handlers.clear();
    await Promise.all(closing);
  }
}

/** Indexes of `items` grouped by the hash slot of their key. */
function groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string, prefix: string | undefined): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < items.length; i++) {
    const k = keyOf(items[i] as T);
    const slot = keySlot(prefix === undefined ? k : prefix + k);
    const g = groups.get(slot);
    if (g === undefined) groups.set(slot, [i]);
    else g.push(i);
  }
  return groups;
}

function nullToUndefined(v: Buffer | null): Buffer | undefined {
  return v === null ? undefined : v;
}

/** In place: ioredis answers `null` for a missing key, the Store port says `undefined`. */
function nullsToUndefined(values: (Buffer | null)[]): (Buffer | undefined)[] {
  for (let i = 0; i < values.length; i++) if (values[i] === null) (values as unknown[])[i] = undefined;
  return values as (Buffer | undefined)[];
}

/** QUIT, but a hung (SIGSTOPped) or unreachable server must not hang `close()`. */
async function quitOrDisconnect(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.quit().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1_000);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
    client.disconnect();
  }
}

function validTtl(ttlMs: number): number {
  if (!(typeof ttlMs === 'number' && Number.isFinite(ttlMs) && ttlMs >= 1)) {
    throw new CacheOptionsError(`TTL must be a positive number of milliseconds, got ${String(ttlMs)}`);
  }
  return Math.round(ttlMs);
}

function positiveInt(n: number, name: string): number {
  if (!(Number.isInteger(n) && n > 0)) throw new CacheOptionsError(`RedisStore ${name} must be a positive integer, got ${String(n)}`);
  return n;
}
