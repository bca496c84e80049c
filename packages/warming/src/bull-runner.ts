import { Queue, QueueEvents, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { UnknownWarmKeyError } from './errors';
import type { ResolvedOptions } from './options';
import type { AddOptions, FinishListener, JobHandler, TickHandler, WarmRunner } from './runner';
import type { ScheduleSpec } from './entries';
import type { FailedWarmJob, QueueStats, WarmJobData } from './types';

/** Queue name of the schedule ticks (one job per tick, run by one process; it fans out warm jobs). */
export const CONTROL_QUEUE = '_control';

/**
 * BullMQ on Redis: one queue per origin (a Worker each, with the origin's concurrency and rate
 * limit), a control queue for the schedulers, and a QueueEvents per origin so `ready()` sees jobs
 * finish in any process. The deduplication id of a job is its key: at most one job per key is queued
 * or running across all processes.
 */
export class BullRunner implements WarmRunner {
  readonly kind = 'bullmq' as const;
  private readonly queues = new Map<string, Queue>();
  private readonly control: Queue;
  private readonly workers: Worker[] = [];
  private readonly events: QueueEvents[] = [];
  private readonly clients: Redis[] = [];
  private readonly shared: Redis;
  private readonly active = new Map<string, { job: Job; token: string | undefined; handBack: (err: Error) => void }>();

  constructor(
    private readonly redis: string | RedisOptions | Redis,
    private readonly opts: ResolvedOptions,
    private readonly onError: (error: unknown, where: string) => void,
  ) {
    this.shared = this.client();
    for (const o of opts.origins.values()) this.queues.set(o.name, this.track(new Queue(o.name, { connection: this.shared, prefix: opts.prefix })));
    this.control = this.track(new Queue(CONTROL_QUEUE, { connection: this.shared, prefix: opts.prefix }));
  }

  private track<T extends { on(e: 'error', l: (err: Error) => void): unknown }>(x: T): T {
    x.on('error', (err) => this.onError(err, 'bullmq'));
    return x;
  }

  /** A connection of our own (BullMQ needs `maxRetriesPerRequest: null`; blocking readers need their own). */
  private client(): Redis {
    const r = this.redis;
    const c =
      r instanceof Redis
        ? r.duplicate({ maxRetriesPerRequest: null })
        : typeof r === 'string'
          ? new Redis(r, { maxRetriesPerRequest: null })
          : new Redis({ ...r, maxRetriesPerRequest: null });
    c.on('error', (err) => this.onError(err, 'redis'));
    this.clients.push(c);
    return c;
  }

  async start(handler: JobHandler, tick: TickHandler, onFinished: FinishListener): Promise<void> {
    const o = this.opts;
    for (const [name] of this.queues) {
      const qe = this.track(new QueueEvents(name, { connection: this.client(), prefix: o.prefix }));
      qe.on('completed', ({ jobId }) => onFinished(jobId, true));
      qe.on('failed', ({ jobId, failedReason }) => onFinished(jobId, false, failedReason));
      this.events.push(qe);
    }
    await Promise.all(this.events.map((e) => e.waitUntilReady()));
    if (!o.worker) return;
    const common = { prefix: o.prefix, lockDuration: o.lockDurationMs, stalledInterval: o.stalledIntervalMs, metrics: { maxDataPoints: 60 } };
    for (const origin of o.origins.values()) {
      const w = new Worker<WarmJobData>(
        origin.name,
        async (job, token) => {
          let handBack: (err: Error) => void = () => undefined;
          const handedBack = new Promise<never>((_, reject) => (handBack = reject));
          this.active.set(job.id!, { job, token, handBack });
          try {
            await Promise.race([handler(job.data, job.attemptsMade + 1), handedBack]);
          } catch (err) {
            if (err instanceof UnknownWarmKeyError) throw new UnrecoverableError(err.message);
            throw err;
          } finally {
            this.active.delete(job.id!);
          }
        },
        {
          ...common,
          connection: this.client(),
          concurrency: origin.concurrency,
          ...(origin.rateLimit ? { limiter: { max: origin.rateLimit.max, duration: origin.rateLimit.durationMs } } : {}),
        },
      );
      this.workers.push(this.track(w));
    }
    const cw = new Worker<{ schedule: string }>(CONTROL_QUEUE, async (job) => tick(job.data.schedule), { ...common, connection: this.client(), concurrency: 1 });
    this.workers.push(this.track(cw));
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  private jobOpts(key: string, opts: AddOptions): JobsOptions {
    const o = this.opts;
    const j: JobsOptions = {
      attempts: o.attempts,
      backoff: { type: 'exponential', delay: o.backoffDelayMs, jitter: o.backoffJitter },
      deduplication: opts.afterActive ? { id: key, keepLastIfActive: true } : { id: key },
      removeOnComplete: { count: o.keepCompleted },
      removeOnFail: { count: o.keepFailed },
    };
    if (opts.delayMs !== undefined && opts.delayMs > 0) j.delay = opts.delayMs;
    return j;
  }

  async add(origin: string, data: WarmJobData, opts: AddOptions = {}): Promise<string> {
    const q = this.queues.get(origin);
    if (q === undefined) throw new RangeError(`unknown origin ${origin}`);
    const job = await q.add('warm', data, this.jobOpts(data.key, opts));
    return job.id!;
  }

  async schedule(spec: ScheduleSpec): Promise<void> {
    const repeat = spec.everyMs !== undefined ? { every: spec.everyMs } : { pattern: spec.cron! };
    await this.control.upsertJobScheduler(spec.id, repeat, { name: 'tick', data: { schedule: spec.id }, opts: { removeOnComplete: true, removeOnFail: { count: 100 } } });
  }

  async stats(): Promise<QueueStats[]> {
    return Promise.all(
      [...this.queues].map(async ([origin, q]) => {
        const [c, m] = await Promise.all([q.getJobCounts('waiting', 'prioritized', 'active', 'completed', 'failed', 'delayed'), q.getMetrics('completed', 0, 0)]);
        return {
          origin,
          waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
          active: c.active ?? 0,
          completed: m.meta.count,
          failed: c.failed ?? 0,
          delayed: c.delayed ?? 0,
          throughputPerMinute: m.data[0] ?? 0,
        };
      }),
    );
  }

  async failed(limit: number): Promise<FailedWarmJob[]> {
    const all = await Promise.all(
      [...this.queues].map(async ([origin, q]) => {
        const jobs = (await q.getFailed(0, Math.max(0, limit - 1))) as Job<WarmJobData>[];
        return jobs.map((j) => ({ id: j.id!, key: j.data.key, origin, reason: j.data.reason, error: j.failedReason, attempts: j.attemptsMade, failedAt: j.finishedOn ?? 0 }));
      }),
    );
    return all
      .flat()
      .sort((a, b) => b.failedAt - a.failedAt)
      .slice(0, limit);
  }

  /** Workers finish their jobs within `timeoutMs`; jobs still running then go back to `wait` for another worker (their locks released). */
  async close(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.all(this.workers.map((w) => w.close().catch(() => undefined))).then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      // Back to `wait` (lock released) for another worker; the processor stops waiting for the factory.
      const running = [...this.active.values()];
      await Promise.all(running.map(({ job, token }) => job.moveToWait(token).catch((err: unknown) => this.onError(err, 'close.handBack'))));
      for (const r of running) r.handBack(new Error('handed back at shutdown'));
      await Promise.race([Promise.all(this.workers.map((w) => w.close())), new Promise((r) => setTimeout(r, 1_000).unref())]);
    }
    // bounded: a Redis that does not answer must not hold the shutdown
    await within(Promise.all([...this.events, ...this.queues.values(), this.control].map((x) => x.close().catch(() => undefined))), CLOSE_GRACE_MS);
    await within(Promise.all(this.clients.map((c) => c.quit().catch(() => undefined))), CLOSE_GRACE_MS);
    for (const c of this.clients) c.disconnect();
  }
}

/** How long closing queues and connections may take after the workers stopped, before connections are dropped. */
export const CLOSE_GRACE_MS = 1_000;

function within(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer));
}
