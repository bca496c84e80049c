import type { TieredCache } from '@stratacache/tiered';
import { Warmer, type WarmEntry, type WarmLoader } from '@stratacache/warming';
import type { AdminApiConfig } from './config';

/** What this server can load itself (embedders of `createAdminServer`; the CLI declares nothing). */
export interface AdminWarmSetup {
  entries?: WarmEntry[];
  loaders?: WarmLoader[];
}

/**
 * - `embedded`: no REDIS_URL — jobs run in this process, for the entries / loaders given (none from
 *   the CLI: every key is then refused, nothing here knows how to load it).
 * - `bullmq`: REDIS_URL and entries / loaders given — BullMQ jobs, this process is a worker too.
 * - `bullmq-producer`: REDIS_URL and nothing given — this process only enqueues (any key) on the
 *   shared BullMQ queues; the workers of the apps that own the keys (same `WARMING_PREFIX`, loaders
 *   declared) run them. A key no worker knows fails there at once (`E_WARMING_UNKNOWN_KEY`).
 */
export type WarmingMode = 'embedded' | 'bullmq' | 'bullmq-producer';

export interface AdminWarmer {
  warmer: Warmer;
  mode: WarmingMode;
  /** Keys declared here (shown on the dashboard's warming panel). */
  keys(): string[];
}

export async function createWarmer(config: AdminApiConfig, cache: TieredCache, setup: AdminWarmSetup = {}): Promise<AdminWarmer> {
  const local = (setup.entries?.length ?? 0) + (setup.loaders?.length ?? 0) > 0;
  const mode: WarmingMode = config.redisUrl === undefined ? 'embedded' : local ? 'bullmq' : 'bullmq-producer';
  const warmer = new Warmer({
    cache,
    ...(config.redisUrl !== undefined ? { redis: config.redisUrl } : {}),
    prefix: config.warmingPrefix,
    worker: mode !== 'bullmq-producer',
    // a producer re-warming every key an admin invalidates would hand the apps' workers unasked-for jobs
    rewarmOnInvalidate: mode !== 'bullmq-producer',
  });
  if (setup.entries?.length) warmer.declare(setup.entries.map((e) => ({ atStart: false, ...e })));
  for (const l of setup.loaders ?? []) warmer.loader(l);
  if (mode === 'bullmq-producer') {
    warmer.loader({
      pattern: '*',
      load: () => {
        throw new Error('the admin API only enqueues: the apps’ warming workers load keys');
      },
    });
  }
  // not awaited: a Redis that does not answer must not hold the server's start (the routes are bounded)
  warmer.start().catch(() => undefined);
  return { warmer, mode, keys: () => [...warmer.registry.entries.keys()] };
}
