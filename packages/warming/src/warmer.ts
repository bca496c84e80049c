import { setWarmUpRegistry, toMs, type Duration, type WarmUpRegistry, type WarmUpReport, type WarmUpTask } from '@stratacache/core';
import { BullRunner } from './bull-runner';
import { EntryRegistry } from './entries';
import { UnknownWarmKeyError, WarmerClosedError, WarmingOptionsError, WarmWriteError } from './errors';
import { MemoryRunner } from './memory-runner';
import { backoffMs, resolveOptions, type ResolvedOptions, type WarmerOptions } from './options';
import type { WarmRunner } from './runner';
import { pickCandidates, SMART_SCHEDULE } from './smart';
import { StartupTracker } from './startup-tracker';
import type { FailedWarmJob, InvalidationEventLike, QueueStats, ReadyReport, WarmCache, WarmEntry, WarmerEvent, WarmJobData, WarmLoader, WarmReason } from './types';

/** Enqueues of the start-up set run this many at a time (one Redis round trip each, pipelined). */
export const ENQUEUE_BATCH = 500;

/**
 * Cache warming: declared keys warmed at start (`start()` / `ready()`), refreshed on a schedule,
 * re-warmed after an invalidation, and hot keys warmed from analytics' top-K within a budget. With
 * `redis` the work runs as BullMQ jobs shared by every process; without it, in this process with the
 * same options and semantics.
 */
export class Warmer {
  readonly runner: WarmRunner;
  readonly registry: EntryRegistry;
  readonly options: ResolvedOptions;
  private readonly cache: WarmCache;
  private readonly listeners = new Set<(e: WarmerEvent) => void>();
  private readonly startup = new StartupTracker((p) => this.emit({ type: 'progress', progress: p }));
  private unsubscribe: (() => void) | undefined;
  private warmUpRegistry: WarmUpRegistry | undefined;
  private previousRegistry: WarmUpRegistry | undefined;
  private started: Promise<void> | undefined;
  private readonly scheduled = new Set<string>();
  private closed = false;

  constructor(options: WarmerOptions) {
    this.options = resolveOptions(options);
    this.cache = options.cache;
    this.registry = new EntryRegistry(options.cache);
    const onError = (error: unknown, where: string): void => this.emit({ type: 'error', error, where });
    this.runner = options.redis !== undefined ? new BullRunner(options.redis, this.options, onError) : new MemoryRunner(this.options);
  }

  /** Declares keys to warm (before or after `start()`; after, they are warmed at once). */
  declare(entries: WarmEntry | readonly WarmEntry[]): this {
    const list = Array.isArray(entries) ? (entries as readonly WarmEntry[]) : [entries as WarmEntry];
    for (const e of list) {
      const key = this.registry.declare(e);
      if (!this.options.origins.has(e.origin ?? 'default')) throw new WarmingOptionsError(`${e.key}: unknown origin ${String(e.origin)}`);
      if (this.started !== undefined && e.atStart !== false) void this.started.then(() => this.enqueueStart([key]), () => undefined);
    }
    if (this.started !== undefined) {
      void this.started.then(() => this.scheduleNew()).catch((error: unknown) => this.emit({ type: 'error', error, where: 'schedule' }));
    }
    return this;
  }

  /** Adds a loader for keys matching a glob (smart warming and re-warming of undeclared keys). */
  loader(l: WarmLoader): this {
    if (l.origin !== undefined && !this.options.origins.has(l.origin)) throw new WarmingOptionsError(`loader ${l.pattern}: unknown origin ${l.origin}`);
    this.registry.addLoader(l);
    return this;
  }

  /**
   * Starts the workers and schedules, subscribes to the cache's invalidations, installs the `@WarmUp`
   * registry of core, and enqueues the declared start-up set. Idempotent.
   */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new WarmerClosedError());
    this.started ??= this.doStart();
    return this.started;
  }

  private async doStart(): Promise<void> {
    // counted before anything waits on Redis, so a ready() deadline during start reports them pending
    const keys = [...this.registry.entries].filter(([, e]) => e.atStart !== false).map(([k]) => k);
    this.startup.expect(keys.length);
    await this.runner.start(
      (data, attempt) => this.run(data, attempt),
      (id) => this.tick(id),
      (id, ok, error) => this.startup.finished(id, ok, error),
    );
    await this.scheduleNew();
    if (this.options.smart !== undefined) await this.runner.schedule({ id: SMART_SCHEDULE, everyMs: this.options.smart.everyMs });
    if (this.options.rewarmOnInvalidate && typeof this.cache.on === 'function') {
      this.unsubscribe = this.cache.on('invalidate', (e) => this.onInvalidate(e));
    }
    this.warmUpRegistry = (_instance, tasks) => this.runTasks(tasks);
    this.previousRegistry = setWarmUpRegistry(this.warmUpRegistry);
    await this.enqueueStart(keys, true);
  }

  /** Registers the schedules declared since the last call (one job scheduler per distinct every / cron). */
  private async scheduleNew(): Promise<void> {
    for (const s of this.registry.schedules.values()) {
      if (this.scheduled.has(s.id)) continue;
      this.scheduled.add(s.id);
      await this.runner.schedule(s);
    }
  }

  private async enqueueStart(keys: string[], counted = false): Promise<void> {
    if (!counted) this.startup.expect(keys.length);
    for (let i = 0; i < keys.length; i += ENQUEUE_BATCH) {
      await Promise.all(
        keys.slice(i, i + ENQUEUE_BATCH).map(async (key) => {
          try {
            const id = await this.runner.add(this.registry.originOf(key) ?? 'default', { key, reason: 'start' });
            this.startup.track(id, key);
          } catch (error) {
            this.emit({ type: 'error', error, where: 'enqueue' });
            this.startup.gaveUp(key);
          }
        }),
      );
    }
  }

  /**
   * Resolves when every start-up key is warm (or failed for good), or at the deadline (default
   * `readyTimeout`) — never rejects; the report says which.
   */
  async ready(timeout?: Duration): Promise<ReadyReport> {
    const ms = timeout === undefined ? this.options.readyTimeoutMs : toMs(timeout, 'ready.timeout');
    const until = Date.now() + ms;
    let timer: NodeJS.Timeout | undefined;
    // the deadline covers start() too (a Redis that does not answer)
    const started = await Promise.race([this.start().then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)))]);
    clearTimeout(timer);
    if (!started) return this.startup.report();
    return this.startup.wait(Math.max(0, until - Date.now()));
  }

  /** Enqueues a warm of one key (declared, or matched by a loader). Resolves with the job id. */
  async warm(key: string, opts: { delay?: Duration; reason?: WarmReason } = {}): Promise<string> {
    if (this.closed) throw new WarmerClosedError();
    const full = this.registry.fullKey(key);
    const origin = this.registry.originOf(full);
    if (origin === undefined) throw new UnknownWarmKeyError(full);
    const delayMs = opts.delay === undefined ? undefined : toMs(opts.delay, 'warm.delay');
    return this.runner.add(origin, { key: full, reason: opts.reason ?? 'manual' }, { delayMs, afterActive: true });
  }

  /** One warm job: load through the declared factory or loader, write to the cache (a refresh). */
  private async run(data: WarmJobData, attempt: number): Promise<void> {
    const r = this.registry.resolve(data.key);
    if (r === undefined) throw new UnknownWarmKeyError(data.key);
    const t0 = performance.now();
    try {
      const value = await r.load();
      const opts: { ttl?: Duration; tags?: readonly string[]; grace?: Duration } = {};
      if (r.ttl !== undefined) opts.ttl = r.ttl;
      if (r.tags !== undefined) opts.tags = r.tags;
      if (r.grace !== undefined) opts.grace = r.grace;
      const res = await this.cache.set(data.key, value, opts);
      if (!res.ok && res.reason !== 'bypass') throw new WarmWriteError(data.key, res.reason);
      this.emit({ type: 'warmed', key: data.key, reason: data.reason, origin: r.origin, ms: performance.now() - t0 });
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      this.emit({ type: 'failed', key: data.key, reason: data.reason, origin: r.origin, error, attempt, final: attempt >= this.options.attempts });
      throw err;
    }
  }

  private async tick(id: string): Promise<void> {
    let keys: string[];
    let reason: WarmReason;
    if (id === SMART_SCHEDULE) {
      const s = this.options.smart;
      if (s === undefined) return;
      keys = pickCandidates(s, (k) => this.registry.resolve(k) !== undefined);
      reason = 'smart';
    } else {
      keys = [...(this.registry.schedules.get(id)?.keys ?? [])];
      reason = 'schedule';
    }
    await Promise.all(keys.map((key) => this.runner.add(this.registry.originOf(key) ?? 'default', { key, reason })));
  }

  private onInvalidate(e: InvalidationEventLike): void {
    if (this.closed) return;
    for (const key of this.registry.affected(e)) {
      const origin = this.registry.originOf(key);
      if (origin === undefined) continue;
      this.runner.add(origin, { key, reason: 'invalidation' }, { delayMs: this.options.debounceMs, afterActive: true }).catch((error: unknown) => this.emit({ type: 'error', error, where: 'rewarm' }));
    }
  }

  /**
   * Runs core's `warmUp(instance)` methods (the `@WarmUp` registry): in this process (a method is not
   * a job payload), at most the default origin's concurrency at once, with the same attempts and
   * backoff; they count in `ready()` and progress.
   */
  async runTasks(tasks: readonly WarmUpTask[]): Promise<WarmUpReport> {
    const report: WarmUpReport = { ran: [], failed: [] };
    const limit = this.options.origins.get('default')!.concurrency;
    this.startup.expect(tasks.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < tasks.length) {
        const t = tasks[next++]!;
        for (let attempt = 1; ; attempt++) {
          try {
            await t.run();
            report.ran.push(t.name);
            this.startup.direct(t.name, true);
            break;
          } catch (error) {
            if (attempt >= this.options.attempts || this.closed) {
              report.failed.push({ method: t.name, error });
              this.startup.direct(t.name, false);
              break;
            }
            await new Promise((r) => setTimeout(r, backoffMs(attempt, this.options.backoffDelayMs, this.options.backoffJitter)));
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
    return report;
  }

  /** Queue stats per origin (waiting, active, completed, failed, delayed, throughput per minute). */
  stats(): Promise<QueueStats[]> {
    return this.runner.stats();
  }

  /** Failed jobs (dead-letter), newest first, with their last error. */
  failed(limit = 100): Promise<FailedWarmJob[]> {
    return this.runner.failed(limit);
  }

  on(listener: (e: WarmerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: WarmerEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a listener never breaks warming
      }
    }
  }

  /** Stops: running jobs finish within `timeout` (default `shutdownTimeout`), else go back to the queue for another worker. */
  async close(timeout?: Duration): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    if (this.warmUpRegistry !== undefined) {
      // restore the registry we replaced, unless another Warmer installed itself since
      const current = setWarmUpRegistry(this.previousRegistry);
      if (current !== this.warmUpRegistry) setWarmUpRegistry(current);
    }
    const ms = timeout === undefined ? this.options.shutdownTimeoutMs : toMs(timeout, 'close.timeout');
    let timer: NodeJS.Timeout | undefined;
    // a start still waiting for Redis does not hold the shutdown
    await Promise.race([this.started?.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    await this.runner.close(ms);
    this.startup.close();
  }
}
