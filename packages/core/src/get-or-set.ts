import type { StoreClock } from './clock';
import type { Duration } from './duration';
import type { CacheEntry } from './entry';
import type { GuardedStore } from './guarded-store';
import type { Namespaces } from './namespaces';
import { ReadMode } from './read-path';
import type { ReadPath } from './read-path';
import type { Metrics } from './stats';
import type { Factory, FactoryContext, GetOrSetOptions, SetOptions } from './types';
import type { WritePath, WritePlan } from './write-path';

class FactoryCtx implements FactoryContext {
  ttl: Duration | undefined;
  tags: readonly string[] | undefined;
  skipped = false;
  constructor(readonly key: string) {}
  setTtl(ttl: Duration): void {
    this.ttl = ttl;
  }
  setTags(tags: readonly string[]): void {
    this.tags = tags;
  }
  skip(): void {
    this.skipped = true;
  }
}

/**
 * getOrSet: the read, then on a miss the factory (single-flight per key in this process), then the
 * write in the background — the caller gets the value without waiting for the store.
 */
export class GetOrSet {
  private readonly flights = new Map<string, Promise<unknown>>();

  constructor(
    private readonly guard: GuardedStore,
    private readonly reads: ReadPath,
    private readonly writes: WritePath,
    private readonly namespaces: Namespaces,
    private readonly metrics: Metrics,
    private readonly clock: StoreClock,
  ) {}

  /** `k` is a full key; options were validated by the caller. */
  run<T>(k: string, factory: Factory<T>, opts: GetOrSetOptions | undefined): Promise<T> {
    if (opts?.useCache === false) {
      this.metrics.bypass++;
      if (this.metrics.events.has('bypass')) this.metrics.emitFor('bypass', k, this.namespaces.of(k), {});
      const ctx = new FactoryCtx(k);
      return Promise.resolve().then(() => factory(ctx));
    }
    const inflight = this.flights.get(k);
    if (inflight !== undefined) return inflight as Promise<T>;
    const p = this.loadOrCompute(k, factory, opts);
    this.flights.set(k, p);
    const done = () => {
      if (this.flights.get(k) === p) this.flights.delete(k);
    };
    p.then(done, done);
    return p;
  }

  private async loadOrCompute<T>(k: string, factory: Factory<T>, opts: GetOrSetOptions | undefined): Promise<T> {
    const ns = this.namespaces.of(k);
    const hit = (await this.reads.read(k, ns, ReadMode.LOAD)) as CacheEntry | undefined;
    if (hit !== undefined) return hit.value as T;

    // createdAt = when the factory started, so an invalidation that lands while the factory runs wins.
    const createdAt = this.clock.stamp();
    const ctx = new FactoryCtx(k);
    const m = this.metrics;
    const t0 = performance.now();
    m.originCalls++;
    const value = await factory(ctx);
    const ms = performance.now() - t0;
    m.originLatency.add(ms);
    if (m.events.has('origin')) m.emitFor('origin', k, ns, { latencyMs: ms });
    if (ctx.skipped || value === undefined || this.guard.closed) return value;
    const o: SetOptions = { ...opts };
    if (ctx.ttl !== undefined) o.ttl = ctx.ttl;
    if (ctx.tags !== undefined) o.tags = ctx.tags;
    let plan: WritePlan | undefined;
    try {
      plan = this.writes.plan(k, ns, o);
    } catch {
      return value; // an invalid ctx.setTtl/setTags: serve the value, skip the write
    }
    // Fire-and-forget: the caller gets the value now; ordering on one connection keeps a later read consistent.
    this.guard.background(
      this.writes.writeValue(k, ns, value, plan, createdAt).catch((err: unknown) => {
        // e.g. EncodeError (a symbol, a cycle): the caller has its value; report, don't throw
        m.errors++;
        if (m.events.has('error')) m.emitFor('error', k, ns, { kind: 'encode', error: err });
      }),
    );
    return value;
  }
}
