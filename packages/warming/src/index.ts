export { Warmer, ENQUEUE_BATCH } from './warmer';
export type { WarmerOptions, RateLimit, OriginOptions, SmartOptions } from './options';
export { WARMING_DEFAULTS, MAX_ORIGINS, MAX_CONCURRENCY, MAX_ATTEMPTS, DEFAULT_ORIGIN, backoffMs } from './options';
export { MAX_ENTRIES, MAX_LOADERS } from './entries';
export { MAX_EARLY_FINISHES } from './startup-tracker';
export { CONTROL_QUEUE, CLOSE_GRACE_MS } from './bull-runner';
export { WarmingOptionsError, UnknownWarmKeyError, WarmWriteError, WarmerClosedError } from './errors';
export type {
  WarmCache,
  InvalidationEventLike,
  WarmCandidateSource,
  WarmCandidate,
  WarmWriteOptions,
  WarmEntry,
  WarmLoader,
  WarmReason,
  WarmJobData,
  QueueStats,
  FailedWarmJob,
  WarmProgress,
  ReadyReport,
  WarmerEvent,
} from './types';
