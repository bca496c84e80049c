/** What the warming routes need (`adminWarming(warmer)` builds it from a `@stratacache/warming` Warmer). */
export interface AdminWarming {
  /** Queues (or runs) warming of these keys. A {@link WarmingResult} with nothing queued answers 422. */
  warm(keys: string[]): unknown;
  /** Queue state: waiting, active, completed, failed… */
  stats(): unknown;
}

/** The part of `@stratacache/warming`'s `Warmer` the adapter uses (structural: no import of the package). */
export interface WarmerLike {
  /** Enqueues one key (declared, or matched by a loader); resolves with the job id, rejects for an unknown key. */
  warm(key: string): Promise<string>;
  /** One row per origin: `{ origin, waiting, active, completed, failed, delayed, throughputPerMinute }`. */
  stats(): Promise<readonly object[]>;
  /** Failed jobs, newest first (dead-letter). */
  failed?(limit?: number): Promise<readonly object[]>;
}

/** The answer of `POST /cache/warming` through {@link adminWarming}: which keys were queued (job id), which refused and why. */
export interface WarmingResult {
  queued: { key: string; id: string }[];
  rejected: { key: string; code?: string; message: string }[];
}

export interface AdminWarmingOptions {
  /** Keys this server knows how to warm (declared entries), shown in the queue state (first 100). */
  keys?: () => readonly string[];
  /** Failed jobs listed in the queue state (default 10, 0 = none). */
  failedLimit?: number;
  /** A word on how jobs run here (`embedded`, `bullmq`…), shown in the queue state. */
  mode?: string;
  /** Bound on each call to the warmer (a BullMQ queue waits while Redis is unreachable). Default 5000 ms. */
  timeoutMs?: number;
}

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} did not answer within ${ms} ms`), { code: 'E_WARMING_TIMEOUT' })), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export function isWarmingResult(v: unknown): v is WarmingResult {
  return typeof v === 'object' && v !== null && Array.isArray((v as WarmingResult).queued) && Array.isArray((v as WarmingResult).rejected);
}

/**
 * Adapts a `Warmer` to the admin routes: `warm(keys)` enqueues every key (`warmer.warm(key)`, each
 * on its own: one unknown key does not refuse the others; each bounded by `timeoutMs`) and `stats()` is
 * `{ mode?, queues: warmer.stats(), failed: warmer.failed(n), keys?, keyCount? }`.
 */
export function adminWarming(warmer: WarmerLike, opts: AdminWarmingOptions = {}): AdminWarming {
  const failedLimit = opts.failedLimit ?? 10;
  const ms = opts.timeoutMs ?? 5_000;
  return {
    async warm(keys: string[]): Promise<WarmingResult> {
      const out: WarmingResult = { queued: [], rejected: [] };
      const settled = await Promise.allSettled(keys.map((k) => bounded(warmer.warm(k), ms, 'the warming queue')));
      settled.forEach((s, i) => {
        const key = keys[i]!;
        if (s.status === 'fulfilled') out.queued.push({ key, id: s.value });
        else {
          const e = s.reason as { code?: unknown; message?: unknown };
          const code = typeof e?.code === 'string' ? e.code : undefined;
          out.rejected.push({ key, ...(code ? { code } : {}), message: typeof e?.message === 'string' ? e.message : String(s.reason) });
        }
      });
      return out;
    },
    async stats(): Promise<Record<string, unknown>> {
      const [queues, failed] = await bounded(
        Promise.all([warmer.stats(), failedLimit > 0 && warmer.failed ? warmer.failed(failedLimit) : Promise.resolve([])]),
        ms,
        'the warming queue',
      );
      const keys = opts.keys?.();
      return { ...(opts.mode ? { mode: opts.mode } : {}), queues, failed, ...(keys ? { keys: keys.slice(0, 100), keyCount: keys.length } : {}) };
    },
  };
}
