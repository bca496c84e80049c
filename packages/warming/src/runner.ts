import type { ScheduleSpec } from './entries';
import type { FailedWarmJob, QueueStats, WarmJobData } from './types';

/** Runs one warm job; a rejection is a failed attempt. */
export type JobHandler = (data: WarmJobData, attempt: number) => Promise<void>;
/** Runs a schedule's tick (fans out warm jobs). */
export type TickHandler = (scheduleId: string) => Promise<void>;
/** A job finished for good (completed, or failed after its last attempt), in any process. */
export type FinishListener = (id: string, ok: boolean, error?: string) => void;

export interface AddOptions {
  delayMs?: number;
  /** When a job for the key is running, run once more after it (an invalidation during a warm). */
  afterActive?: boolean;
}

/**
 * The job queue seam: BullMQ on Redis ({@link BullRunner}) or in process ({@link MemoryRunner}), same
 * semantics — one queue per origin (its concurrency and rate limit), at most one job per key queued or
 * running (the key is the deduplication id), retries with exponential backoff and jitter, failed
 * jobs kept with their error.
 */
export interface WarmRunner {
  readonly kind: 'bullmq' | 'memory';
  start(handler: JobHandler, tick: TickHandler, onFinished: FinishListener): Promise<void>;
  /** Enqueues a warm job; resolves with the id of the job that will warm the key (an existing one when deduplicated). */
  add(origin: string, data: WarmJobData, opts?: AddOptions): Promise<string>;
  schedule(spec: ScheduleSpec): Promise<void>;
  stats(): Promise<QueueStats[]>;
  failed(limit: number): Promise<FailedWarmJob[]>;
  close(timeoutMs: number): Promise<void>;
}
