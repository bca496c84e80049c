import { TenantLimitError } from './errors';

/** Bounds of a router's per-tenant resources (see the README table). */
export interface TenantLimits {
  /** Tenant caches alive at once; a new tenant beyond it is refused with `TenantLimitError`. */
  maxTenants: number;
  /** A tenant cache not asked for (`forTenant`) for this long is closed and forgotten (ms; 0 = never). */
  idleTimeoutMs: number;
  /** L1 bytes all tenant caches of the router may use together. */
  l1MaxBytes: number;
  /** L1 bytes one tenant cache may use (its share is `min(this, what is left of l1MaxBytes)`). */
  tenantL1MaxBytes: number;
}

export const TENANT_LIMIT_DEFAULTS: Readonly<TenantLimits> = Object.freeze({
  maxTenants: 1_000,
  idleTimeoutMs: 10 * 60_000,
  l1MaxBytes: 256 * 1024 * 1024,
  tenantL1MaxBytes: 16 * 1024 * 1024,
});

/** Below this a tenant gets no L1 at all (every read goes to its shard's L2). */
export const MIN_L1_SHARE = 64 * 1024;

export interface TenantEntry<C> {
  cache: C;
  shard: string;
  tenant: string | undefined;
  lastUsed: number;
  /** L1 bytes reserved for this cache. */
  l1Bytes: number;
}

/**
 * The set of live tenant caches of a router, with its bounds: a tenant count cap, an L1 byte budget
 * shared by all tenants, and idle eviction (an unref'd sweep every `min(idleTimeout / 2, 60 s)`).
 * Evicted caches are closed in the background; `close()` waits for them.
 */
export class TenantRegistry<C extends { close(): Promise<void> }> {
  readonly limits: Readonly<TenantLimits>;
  readonly #entries = new Map<string, TenantEntry<C>>();
  readonly #onEvict: (key: string, entry: TenantEntry<C>) => void;
  readonly #closing = new Set<Promise<unknown>>();
  #tenants = 0;
  #l1Reserved = 0;
  #evicted = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(limits: TenantLimits, onEvict: (key: string, entry: TenantEntry<C>) => void) {
    this.limits = Object.freeze({ ...limits });
    this.#onEvict = onEvict;
  }

  /** The cache under `key`, marked as used now. */
  get(key: string): C | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    e.lastUsed = Date.now();
    return e.cache;
  }

  /**
   * Admits a new cache: evicts idle tenants first when the cap is reached, then refuses with
   * `TenantLimitError`. Returns the L1 bytes reserved for it (release them with `add` or `cancel`).
   */
  admit(tenant: string | undefined): number {
    if (tenant !== undefined && this.#tenants >= this.limits.maxTenants) {
      this.sweep();
      if (this.#tenants >= this.limits.maxTenants) throw new TenantLimitError(tenant, this.limits.maxTenants);
    }
    const left = this.limits.l1MaxBytes - this.#l1Reserved;
    if (left < MIN_L1_SHARE && this.limits.idleTimeoutMs > 0) this.sweep();
    const share = Math.min(this.limits.tenantL1MaxBytes, this.limits.l1MaxBytes - this.#l1Reserved);
    const granted = share >= MIN_L1_SHARE ? share : 0;
    this.#l1Reserved += granted;
    return granted;
  }

  /** Gives back a reservation whose cache could not be built. */
  cancel(l1Bytes: number): void {
    this.#l1Reserved -= l1Bytes;
  }

  add(key: string, entry: TenantEntry<C>): void {
    this.#entries.set(key, entry);
    if (entry.tenant !== undefined) this.#tenants++;
    this.#startSweeper();
  }

  entries(): IterableIterator<TenantEntry<C>> {
    return this.#entries.values();
  }

  /** Live tenant caches (shard-level caches of `forShard` not counted). */
  get tenants(): number {
    return this.#tenants;
  }

  get l1Reserved(): number {
    return this.#l1Reserved;
  }

  get evicted(): number {
    return this.#evicted;
  }

  /** Closes and forgets every cache idle for at least `idleTimeout` (`now` for tests). Returns how many. */
  sweep(now = Date.now()): number {
    const idle = this.limits.idleTimeoutMs;
    if (idle <= 0) return 0;
    let n = 0;
    for (const [key, e] of this.#entries) {
      if (now - e.lastUsed < idle) continue;
      this.#remove(key, e);
      n++;
    }
    return n;
  }

  #remove(key: string, e: TenantEntry<C>): void {
    this.#entries.delete(key);
    if (e.tenant !== undefined) this.#tenants--;
    this.#l1Reserved -= e.l1Bytes;
    this.#evicted++;
    this.#onEvict(key, e);
    const p = e.cache.close().catch(() => undefined);
    this.#closing.add(p);
    void p.then(() => this.#closing.delete(p));
    if (this.#entries.size === 0) this.#stopSweeper();
  }

  #startSweeper(): void {
    if (this.#timer !== undefined || this.limits.idleTimeoutMs <= 0) return;
    const every = Math.max(1_000, Math.min(Math.floor(this.limits.idleTimeoutMs / 2), 60_000));
    this.#timer = setInterval(() => this.sweep(), every);
    this.#timer.unref();
  }

  #stopSweeper(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Closes every cache (and waits for evicted ones still closing). */
  async closeAll(): Promise<void> {
    this.#stopSweeper();
    const all = [...this.#entries.values()];
    this.#entries.clear();
    this.#tenants = 0;
    this.#l1Reserved = 0;
    await Promise.allSettled([...all.map((e) => e.cache.close()), ...this.#closing]);
  }
}
