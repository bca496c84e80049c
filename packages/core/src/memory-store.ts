import { CacheOptionsError, StoreClosedError } from './errors';
import { globToRegExp, isLiteralGlob, unescapeGlob } from './glob';
import type { MessageHandler, Store, StoreEntry, LockClaim, LockState, ReadOrLockReply, StorePublish } from './store';

export interface MemoryStoreOptions {
  /** Upper bound on the number of keys; the oldest-written key is evicted first. Default: unbounded. */
  maxEntries?: number;
  /** Period of the background sweep of expired keys, in ms (the timer is unref'd). Default 1000. 0 disables (lazy expiry only). */
  sweepIntervalMs?: number;
}

interface Slot {
  v: Buffer;
  /** Absolute expiry in epoch ms; 0 = never. */
  exp: number;
}

const SWEEP_BATCH = 10_000;

/**
 * In-process {@link Store} with Redis semantics: ms TTLs with lazy + periodic expiry, Redis glob
 * deletion, in-process pub/sub (delivered asynchronously, like Redis). The embedded default when no
 * Redis is configured. Values are copied on write; buffers returned by `get` must be treated as read-only.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  private readonly data = new Map<string, Slot>();
  private readonly channels = new Map<string, Set<MessageHandler>>();
  private readonly maxEntries: number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepIter: Iterator<[string, Slot]> | undefined;
  private closed = false;
  /** Number of keys evicted because of `maxEntries`. */
  evictions = 0;

  constructor(opts: MemoryStoreOptions = {}) {
    const max = opts.maxEntries ?? Infinity;
    if (!(typeof max === 'number' && max >= 1 && (Number.isInteger(max) || max === Infinity))) {
      throw new CacheOptionsError(`MemoryStore maxEntries must be a positive integer, got ${String(opts.maxEntries)}`);
    }
    this.maxEntries = max;
    const sweep = opts.sweepIntervalMs ?? 1000;
    if (!(typeof sweep === 'number' && sweep >= 0 && Number.isFinite(sweep))) {
      throw new CacheOptionsError(`MemoryStore sweepIntervalMs must be a number of ms >= 0, got ${String(sweep)}`);
    }
    if (sweep > 0) {
      this.sweepTimer = setInterval(() => this.sweep(), sweep);
      this.sweepTimer.unref();
    }
  }

  /** Live (unexpired) key count; sweeps lazily. */
  get size(): number {
    return this.data.size;
  }

  private live(key: string, now: number): Slot | undefined {
    const slot = this.data.get(key);
    if (slot === undefined) return undefined;
    if (slot.exp !== 0 && slot.exp <= now) {
      this.data.delete(key);
      return undefined;
    }
    return slot;
  }

  private check(): void {
    if (this.closed) throw new StoreClosedError(this.kind);
  }

  private write(key: string, value: Buffer, ttlMs: number | undefined, now: number): void {
    const exp = ttlMs === undefined ? 0 : now + validTtl(ttlMs);
    if (this.data.delete(key) === false && this.data.size >= this.maxEntries) {
      const oldest = this.data.keys().next();
      if (!oldest.done) {
        this.data.delete(oldest.value);
        this.evictions++;
      }
    }
    this.data.set(key, { v: Buffer.from(value), exp });
  }

  async get(key: string): Promise<Buffer | undefined> {
    this.check();
    return this.live(key, Date.now())?.v;
  }

  async mget(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    this.check();
    const now = Date.now();
    return keys.map((k) => this.live(k, now)?.v);
  }

  async set(key: string, value: Buffer, ttlMs?: number): Promise<void> {
    this.check();
    this.write(key, value, ttlMs, Date.now());
  }

  async mset(entries: readonly StoreEntry[]): Promise<void> {
    this.check();
    const now = Date.now();
    for (const e of entries) validTtl(e.ttlMs);
    for (const e of entries) this.write(e.key, e.value, e.ttlMs, now);
  }

  async del(keys: string | readonly string[]): Promise<number> {
    this.check();
    const now = Date.now();
    if (typeof keys === 'string') return this.live(keys, now) && this.data.delete(keys) ? 1 : 0;
    let n = 0;
    for (const k of keys) if (this.live(k, now) && this.data.delete(k)) n++;
    return n;
  }

  async deleteMatching(glob: string): Promise<number> {
    this.check();
    const now = Date.now();
    if (isLiteralGlob(glob)) {
      const key = unescapeGlob(glob);
      return this.live(key, now) && this.data.delete(key) ? 1 : 0;
    }
    const re = globToRegExp(glob);
    let n = 0;
    for (const [k, slot] of this.data) {
      if (!re.test(k)) continue;
      this.data.delete(k);
      if (slot.exp === 0 || slot.exp > now) n++;
    }
    return n;
  }

  /** In-process `Store.readOrLock`: the same semantics as RedisStore's script (the lock is a key holding the token). */
  async readOrLock(key: string, claim: LockClaim, force: boolean, also: readonly string[] = []): Promise<ReadOrLockReply> {
    this.check();
    const now = Date.now();
    const value = this.live(key, now)?.v;
    let lock: LockState = 'none';
    if (value === undefined || force) {
      lock = this.live(claim.key, now) === undefined ? 'led' : 'busy';
      if (lock === 'led') this.write(claim.key, Buffer.from(claim.token), claim.ttlMs, now);
    }
    return { value, lock, also: also.map((k) => this.live(k, now)?.v) };
  }

  /** In-process `Store.writeAndRelease`: write, owner-only release, publish — in one step. */
  async writeAndRelease(key: string, value: Buffer | undefined, ttlMs: number, claim: LockClaim, publish?: StorePublish): Promise<boolean> {
    this.check();
    const now = Date.now();
    if (value !== undefined) this.write(key, value, ttlMs, now);
    const released = this.owns(claim, now) && this.data.delete(claim.key);
    if (publish !== undefined) await this.publish(publish.channel, publish.message);
    return released;
  }

  async extendLock(claim: LockClaim): Promise<boolean> {
    this.check();
    const now = Date.now();
    if (!this.owns(claim, now)) return false;
    this.write(claim.key, Buffer.from(claim.token), claim.ttlMs, now);
    return true;
  }

  private owns(claim: LockClaim, now: number): boolean {
    const held = this.live(claim.key, now);
    return held !== undefined && held.v.toString() === claim.token;
  }

  async publish(channel: string, message: Buffer | string): Promise<number> {
    this.check();
    const handlers = this.channels.get(channel);
    if (!handlers || handlers.size === 0) return 0;
    const bytes = typeof message === 'string' ? Buffer.from(message) : Buffer.from(message);
    const list = [...handlers];
    setImmediate(() => {
      for (const h of list) {
        try {
          h(bytes, channel);
        } catch {
          // a throwing subscriber must not break delivery to the others (same as a Redis client).
        }
      }
    });
    return list.length;
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    this.check();
    let set = this.channels.get(channel);
    if (!set) {
      set = new Set();
      this.channels.set(channel, set);
    }
    // A wrapper so the same handler function can be subscribed twice and unsubscribed independently.
    const wrapped: MessageHandler = (m, c) => handler(m, c);
    set.add(wrapped);
    return async () => {
      const s = this.channels.get(channel);
      if (!s) return;
      s.delete(wrapped);
      if (s.size === 0) this.channels.delete(channel);
    };
  }

  async ping(): Promise<number> {
    this.check();
    return 0;
  }

  isReady(): boolean {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.channels.clear();
    this.data.clear();
  }

  /** Removes up to a batch of expired keys; resumes where the previous sweep stopped. */
  private sweep(): void {
    const now = Date.now();
    if (!this.sweepIter) this.sweepIter = this.data.entries();
    for (let i = 0; i < SWEEP_BATCH; i++) {
      const next = this.sweepIter.next();
      if (next.done) {
        this.sweepIter = undefined;
        return;
      }
      const [k, slot] = next.value;
      if (slot.exp !== 0 && slot.exp <= now) this.data.delete(k);
    }
  }
}

function validTtl(ttlMs: number | undefined): number {
  if (ttlMs === undefined) return 0;
  if (!(typeof ttlMs === 'number' && Number.isFinite(ttlMs) && ttlMs >= 1)) {
    throw new CacheOptionsError(`TTL must be a positive number of milliseconds, got ${String(ttlMs)}`);
  }
  return Math.round(ttlMs);
}
