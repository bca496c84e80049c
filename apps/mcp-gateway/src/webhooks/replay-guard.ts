/**
 * Webhook replay memory: one delivery — the canonical (timestamp, verified signature) pair,
 * whatever the spelling of its `X-Signature` header — is applied once within the replay window.
 *
 * - {@link MemoryReplayGuard}: in-process map, bounded to `maxEntries` (default 10,000) live
 *   deliveries; expired ones are dropped first, then the oldest.
 * - The Redis one (built in `cache.ts` on the default shard's store): `SET key 1 NX PX window`,
 *   so every gateway instance on that Redis refuses the others' replays.
 */
export interface ReplayGuard {
  /** Where the memory lives (`memory` or `redis`), for logs and /healthz. */
  readonly kind: string;
  /**
   * Records `id` for `ttlMs`. Resolves true the first time, false for a replay. Never throws: when
   * the shared store cannot answer, the guard falls back to its in-process memory (and says so).
   */
  firstDelivery(id: string, ttlMs: number): Promise<boolean>;
  /** Forgets `id` (its delivery was not applied: the sender's retry must be accepted). Never throws. */
  forget(id: string): Promise<void>;
}

export const DEFAULT_REPLAY_MEMORY = 10_000;

export class MemoryReplayGuard implements ReplayGuard {
  readonly kind = 'memory';
  private readonly seen = new Map<string, number>();
  constructor(private readonly maxEntries = DEFAULT_REPLAY_MEMORY) {}

  get size(): number {
    return this.seen.size;
  }

  async firstDelivery(id: string, ttlMs: number): Promise<boolean> {
    return this.firstDeliverySync(id, ttlMs);
  }

  async forget(id: string): Promise<void> {
    this.seen.delete(id);
  }

  firstDeliverySync(id: string, ttlMs: number): boolean {
    const now = Date.now();
    const until = this.seen.get(id);
    if (until !== undefined && until > now) return false;
    this.seen.delete(id);
    if (this.seen.size >= this.maxEntries) {
      for (const [k, exp] of this.seen) if (exp <= now) this.seen.delete(k);
      // still full: forget the oldest (insertion order) — documented bound
      while (this.seen.size >= this.maxEntries) {
        const oldest = this.seen.keys().next().value;
        if (oldest === undefined) break;
        this.seen.delete(oldest);
      }
    }
    this.seen.set(id, now + ttlMs);
    return true;
  }
}

/** Minimal SET NX PX capability (an ioredis client or Cluster). */
export interface SetNxClient {
  set(key: string, value: string, px: 'PX', ttlMs: number, nx: 'NX'): Promise<'OK' | null>;
  del(key: string): Promise<number>;
}

export class RedisReplayGuard implements ReplayGuard {
  readonly kind = 'redis';
  private readonly fallback: MemoryReplayGuard;
  constructor(
    private readonly client: SetNxClient,
    private readonly keyPrefix: string,
    private readonly opts: { timeoutMs?: number; maxEntries?: number; onFallback?: (err: Error) => void } = {},
  ) {
    this.fallback = new MemoryReplayGuard(opts.maxEntries);
  }

  async firstDelivery(id: string, ttlMs: number): Promise<boolean> {
    // the local memory also sees every delivery, so a replay to this instance is refused even
    // when Redis stops answering between the two
    const local = this.fallback.firstDeliverySync(id, ttlMs);
    let timer: NodeJS.Timeout | undefined;
    try {
      const r = await Promise.race([
        this.client.set(`${this.keyPrefix}${id}`, '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX'),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.opts.timeoutMs ?? 1000} ms`)), this.opts.timeoutMs ?? 1000);
        }),
      ]);
      return r === 'OK' && local;
    } catch (err) {
      this.opts.onFallback?.(err as Error);
      return local;
    } finally {
      clearTimeout(timer);
    }
  }

  async forget(id: string): Promise<void> {
    await this.fallback.forget(id);
    await this.client.del(`${this.keyPrefix}${id}`).catch((err: Error) => this.opts.onFallback?.(err));
  }
}
