import { CacheOptionsError } from '@stratacache/core';
import type { Lock } from '@stratacache/lock';
import { FactoryTimeoutError } from './errors';
import { FactoryContextImpl, SKIP } from './factory-context';
import { FusedLock } from './fused-lock';
import type { L2Writer } from './l2-writer';
import { LockKeeper } from './lock-keeper';
import type { ResolvedPolicy } from './options';
import type { Fresh, Runtime, StaleCandidate } from './runtime';
import { NOOP, remember } from './runtime';
import type { Factory } from './types';

/**
 * The factory runner: calls the factory with its context under the hard timeout (its signal aborts),
 * keeps the stampede lock alive meanwhile, hands the value to the L2 writer without waiting for it;
 * and when a stale value exists, the soft timeout, stale-while-revalidate, the fail-safe fallback and
 * its throttling (after an origin failure — or while L2 is unreachable — the origin is called at most
 * once per `failSafeThrottle` window per key).
 */
export class FactoryRunner {
  /** Fail-safe throttling: key → until when the origin is not called again while a stale value exists (bounded). */
  private readonly failedUntil = new Map<string, number>();
  /** The same while L2 is unreachable: key → until when the origin is not called again (bounded). */
  private readonly outageUntil = new Map<string, number>();

  /** Keeps the locks of running factories alive (one timer for all). */
  readonly keeper: LockKeeper;

  constructor(
    private readonly rt: Runtime,
    private readonly writer: L2Writer,
  ) {
    this.keeper = new LockKeeper(rt.opts.lockTtl);
  }

  /**
   * Whether the origin must not be called now for `key` (returns the `stale` event kind then). An L2
   * outage counts like an origin failure: the first read that finds L2 unreachable opens a window.
   */
  throttled(key: string, l2Failed: boolean, hasStale: boolean, p: ResolvedPolicy): string | undefined {
    if (l2Failed) {
      const until = this.outageUntil.get(key);
      if (hasStale && until !== undefined && until > Date.now()) return 'outage-throttled';
      remember(this.outageUntil, key, p.failSafeThrottle);
    } else if (this.outageUntil.size > 0) {
      this.outageUntil.delete(key);
    }
    if (!hasStale) return undefined;
    const failedUntil = this.failedUntil.get(key);
    if (failedUntil === undefined) return undefined;
    if (failedUntil > Date.now()) return 'fail-safe-throttled';
    this.failedUntil.delete(key);
    return undefined;
  }

  /**
   * A stale value exists: never make the caller wait longer than `softTimeout` for the fresh one
   * (`0`: answer at once and refresh in the background); a failed factory falls back to the stale value.
   */
  async withStale<T>(key: string, stale: StaleCandidate<T>, fresh: Promise<Fresh<T>>, alreadyRunning: boolean, p: ResolvedPolicy): Promise<Fresh<T>> {
    const rt = this.rt;
    if (p.softTimeout === 0) {
      // stale-while-revalidate: answer now, refresh in the background (once per key)
      rt.track(fresh);
      if (!alreadyRunning) {
        rt.c.backgroundRefreshes++;
        if (rt.emitter.has('refresh')) rt.emit('refresh', key, 'origin', { kind: 'stale' });
      }
      this.servedStale(key, 'swr');
      return { value: stale.value, source: 'stale' };
    }
    let timer: NodeJS.Timeout | undefined;
    const soft = new Promise<'soft'>((resolve) => {
      timer = setTimeout(() => resolve('soft'), p.softTimeout);
    });
    try {
      const r = await Promise.race([fresh, soft]);
      if (r === 'soft') {
        rt.c.softTimeouts++;
        rt.track(fresh);
        this.servedStale(key, 'soft-timeout');
        return { value: stale.value, source: 'stale' };
      }
      if (r.skipped) return r.value !== undefined ? { value: r.value, source: 'origin' } : { value: stale.value, source: 'stale' };
      return r;
    } catch {
      // factory failed or hard-timed out: fail-safe to the stale value
      this.servedStale(key, 'fail-safe');
      return { value: stale.value, source: 'stale' };
    } finally {
      clearTimeout(timer);
    }
  }

  servedStale(key: string, kind: string): void {
    if (this.rt.emitter.has('stale')) this.rt.emit('stale', key, 'stale', { kind });
  }

  /** `useCache: false`: the factory alone, nothing read or written. */
  async bypass<T>(key: string, factory: Factory<T>): Promise<T> {
    this.rt.c.factoryCalls++;
    const ctx = new FactoryContextImpl<T>(key, undefined, undefined, undefined);
    const v = await factory(ctx);
    return (v === SKIP ? undefined : v) as T;
  }

  /** Calls the factory with its context, applies the hard timeout, starts the L2 write (not awaited) and fills L1. */
  async run<T>(key: string, factory: Factory<T>, p: ResolvedPolicy, tags: readonly string[] | undefined, basis: StaleCandidate<T> | undefined, lock: Lock | FusedLock | undefined): Promise<Fresh<T>> {
    const rt = this.rt;
    rt.checkOpen();
    rt.c.factoryCalls++;
    const ctx = new FactoryContextImpl<T>(key, basis?.value, p.ttl, tags);
    rt.aborts.add(ctx);
    // createdAt = the factory's start on core's clock: an invalidation that lands while it runs wins.
    const startedAt = rt.l2.stamp();
    const timed = rt.emitter.has('origin');
    const t0 = timed ? performance.now() : 0;
    // the lock is kept alive while the factory runs (one shared timer, see LockKeeper)
    if (lock !== undefined) this.keeper.hold(lock);
    let hardTimer: NodeJS.Timeout | undefined;
    let value: T;
    try {
      if (p.hardTimeout === 0) {
        // The factory runs in the next microtask, as before, so the caller has registered this run in
        // the single-flight maps first (a factory that re-enters the cache finds it); its value is
        // awaited only when it is a promise (no closure and no promise of ours around the call).
        await NEXT_MICROTASK;
        const out = factory(ctx);
        value = isThenable(out) ? await out : out;
      } else {
        const call = Promise.resolve().then(() => factory(ctx));
        const hard = new Promise<never>((_, reject) => {
          hardTimer = setTimeout(() => {
            const err = new FactoryTimeoutError(key, p.hardTimeout);
            ctx.abort(err);
            reject(err);
          }, p.hardTimeout);
        });
        call.catch(NOOP);
        value = await Promise.race([call, hard]);
      }
      if (ctx.failure !== undefined) throw ctx.failure.error; // ctx.fail(error): a failure, like a throw
      if (value === undefined && !ctx.skipped) {
        throw new CacheOptionsError(`TieredCache.getOrSet: the factory for ${JSON.stringify(key)} returned undefined (return null for "no value", or ctx.skip())`);
      }
    } catch (err) {
      if (err instanceof FactoryTimeoutError) rt.c.factoryTimeouts++;
      else rt.c.factoryErrors++;
      rt.onError(err, 'factory', key);
      remember(this.failedUntil, key, p.failSafeThrottle);
      throw err;
    } finally {
      clearTimeout(hardTimer);
      if (lock !== undefined) this.keeper.release(lock);
      rt.aborts.delete(ctx);
    }
    this.failedUntil.delete(key);
    if (timed) rt.emit('origin', key, 'origin', { latencyMs: performance.now() - t0 });
    // skip(): nothing is cached; a value returned anyway is still handed to the caller
    if (ctx.skipped || (value as unknown) === SKIP) return { value: (value as unknown) === SKIP ? undefined : value, source: 'origin', skipped: true };
    // The caller does not wait for the L2 write and the publish (bounded by opTimeout, in the background);
    // L1 holds the value once L2 accepted it for writing (see `L2Writer.start`).
    // With the fused lock, the write also releases it and publishes (one round trip).
    const { done } = await this.writer.start(key, value, ctx.ttl, p.grace, ctx.tags, startedAt, p.jitter, lock instanceof FusedLock ? lock : undefined);
    rt.track(done);
    return { value, source: 'origin', written: done };
  }
}

/** Awaited to move on in the next microtask (shared: nothing allocated per call). */
const NEXT_MICROTASK: Promise<void> = Promise.resolve();

function isThenable<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}
