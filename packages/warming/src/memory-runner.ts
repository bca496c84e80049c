import { CronExpressionParser } from 'cron-parser';
import { UnknownWarmKeyError } from './errors';
import { backoffMs, type ResolvedOptions, type ResolvedOrigin } from './options';
import type { AddOptions, FinishListener, JobHandler, TickHandler, WarmRunner } from './runner';
import type { ScheduleSpec } from './entries';
import type { FailedWarmJob, QueueStats, WarmJobData } from './types';

interface Job {
  id: string;
  data: WarmJobData;
  attempt: number;
}

/** One origin's in-process queue: FIFO, concurrency, a sliding-window rate limit, dedup by key. */
class OriginQueue {
  readonly waiting: Job[] = [];
  readonly byKey = new Map<string, Job>();
  readonly again = new Map<string, WarmJobData>();
  readonly active = new Set<Job>();
  delayed = 0;
  completed = 0;
  readonly completions: number[] = [];
  readonly starts: number[] = [];
  readonly failed: FailedWarmJob[] = [];
  wake: NodeJS.Timeout | undefined;
  constructor(readonly o: ResolvedOrigin) {}
}

/** The embedded job runner: the same options and semantics as BullMQ, in this process. */
export class MemoryRunner implements WarmRunner {
  readonly kind = 'memory' as const;
  private readonly queues = new Map<string, OriginQueue>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private handler: JobHandler | undefined;
  private tick: TickHandler | undefined;
  private onFinished: FinishListener = () => undefined;
  private seq = 0;
  private closed = false;

  constructor(private readonly opts: ResolvedOptions) {
    for (const o of opts.origins.values()) this.queues.set(o.name, new OriginQueue(o));
  }

  async start(handler: JobHandler, tick: TickHandler, onFinished: FinishListener): Promise<void> {
    this.handler = handler;
    this.tick = tick;
    this.onFinished = onFinished;
    for (const q of this.queues.values()) this.pump(q);
  }

  private q(origin: string): OriginQueue {
    const q = this.queues.get(origin);
    if (q === undefined) throw new RangeError(`unknown origin ${origin}`);
    return q;
  }

  async add(origin: string, data: WarmJobData, opts: AddOptions = {}): Promise<string> {
    const q = this.q(origin);
    const existing = q.byKey.get(data.key);
    if (existing !== undefined) {
      if (opts.afterActive && q.active.has(existing)) q.again.set(data.key, data);
      return existing.id;
    }
    const job: Job = { id: `m${++this.seq}`, data, attempt: 0 };
    q.byKey.set(data.key, job);
    if (opts.delayMs !== undefined && opts.delayMs > 0) this.later(q, job, opts.delayMs);
    else {
      q.waiting.push(job);
      this.pump(q);
    }
    return job.id;
  }

  private later(q: OriginQueue, job: Job, delayMs: number): void {
    q.delayed++;
    const t = setTimeout(() => {
      this.timers.delete(t);
      q.delayed--;
      if (this.closed) return;
      q.waiting.push(job);
      this.pump(q);
    }, delayMs);
    this.timers.add(t);
  }

  private pump(q: OriginQueue): void {
    if (this.handler === undefined || this.closed || !this.opts.worker) return;
    const rl = q.o.rateLimit;
    while (q.waiting.length > 0 && q.active.size < q.o.concurrency) {
      if (rl !== undefined) {
        const now = Date.now();
        while (q.starts.length > 0 && q.starts[0]! <= now - rl.durationMs) q.starts.shift();
        if (q.starts.length >= rl.max) {
          if (q.wake === undefined) {
            q.wake = setTimeout(() => {
              q.wake = undefined;
              this.pump(q);
            }, q.starts[0]! + rl.durationMs - now + 1);
          }
          return;
        }
        q.starts.push(now);
      }
      const job = q.waiting.shift()!;
      q.active.add(job);
      void this.run(q, job);
    }
  }

  private async run(q: OriginQueue, job: Job): Promise<void> {
    job.attempt++;
    try {
      await this.handler!(job.data, job.attempt);
      q.completed++;
      q.completions.push(Date.now());
      if (q.completions.length > 100_000) q.completions.splice(0, 50_000);
      this.finish(q, job, true);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (job.attempt < this.opts.attempts && !(err instanceof UnknownWarmKeyError) && !this.closed) {
        q.active.delete(job);
        this.later(q, job, backoffMs(job.attempt, this.opts.backoffDelayMs, this.opts.backoffJitter));
        this.pump(q);
        return;
      }
      q.failed.unshift({ id: job.id, key: job.data.key, origin: q.o.name, reason: job.data.reason, error: msg, attempts: job.attempt, failedAt: Date.now() });
      if (q.failed.length > this.opts.keepFailed) q.failed.length = this.opts.keepFailed;
      this.finish(q, job, false, msg);
    }
  }

  private finish(q: OriginQueue, job: Job, ok: boolean, error?: string): void {
    q.active.delete(job);
    q.byKey.delete(job.data.key);
    this.onFinished(job.id, ok, error);
    const again = q.again.get(job.data.key);
    if (again !== undefined) {
      q.again.delete(job.data.key);
      void this.add(q.o.name, again);
    }
    this.pump(q);
  }

  async schedule(spec: ScheduleSpec): Promise<void> {
    const fire = (): void => {
      if (this.closed) return;
      this.tick?.(spec.id).catch(() => undefined);
    };
    if (spec.everyMs !== undefined) {
      const t = setInterval(fire, spec.everyMs);
      t.unref();
      this.timers.add(t);
      return;
    }
    const expr = CronExpressionParser.parse(spec.cron!);
    const next = (): void => {
      const delay = Math.max(0, expr.next().getTime() - Date.now());
      const t = setTimeout(() => {
        this.timers.delete(t);
        fire();
        next();
      }, delay);
      t.unref();
      this.timers.add(t);
    };
    next();
  }

  async stats(): Promise<QueueStats[]> {
    const since = Date.now() - 60_000;
    return [...this.queues.values()].map((q) => ({
      origin: q.o.name,
      waiting: q.waiting.length,
      active: q.active.size,
      completed: q.completed,
      failed: q.failed.length,
      delayed: q.delayed,
      throughputPerMinute: q.completions.filter((t) => t > since).length,
    }));
  }

  async failed(limit: number): Promise<FailedWarmJob[]> {
    return [...this.queues.values()].flatMap((q) => q.failed).sort((a, b) => b.failedAt - a.failedAt).slice(0, limit);
  }

  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const q of this.queues.values()) if (q.wake !== undefined) clearTimeout(q.wake);
    const until = Date.now() + timeoutMs;
    while (Date.now() < until && [...this.queues.values()].some((q) => q.active.size > 0)) await new Promise((r) => setTimeout(r, 10));
  }
}
