import type { CacheRef } from './cache-layer';
import { buildKey, invalidateOn, resolveCache } from './cache-layer';
import type { Duration } from './duration';
import { CacheOptionsError } from './errors';
import type { KeyIdentifier } from './key-builder';
import type { GetOrSetOptions, InvalidateSpec, NamespaceRef } from './types';

type AsyncMethod<This, A extends unknown[], R> = (this: This, ...args: A) => Promise<R>;

export interface CachedDecoratorOptions<A extends unknown[] = unknown[]> {
  /** Instance, thunk, or (when omitted) the default cache (`setDefaultCache`). A thunk is called per call, so it may read `this`-independent state. */
  cache?: CacheRef;
  entity: string;
  operation: string;
  /** Identifier params from the arguments. Default: the single argument, or the argument list, or `'all'` for none. */
  params?: (...args: A) => KeyIdentifier;
  ttl?: Duration;
  tags?: readonly string[] | ((...args: A) => readonly string[]);
}

function defaultParams(args: unknown[]): KeyIdentifier {
  if (args.length === 0) return 'all';
  if (args.length === 1) {
    const a = args[0];
    if (typeof a === 'string' || typeof a === 'number') return a;
    if (typeof a === 'object' && a !== null) return a as KeyIdentifier;
    return String(a);
  }
  return args;
}

/**
 * TypeScript 5 standard method decorator (no `experimentalDecorators`): caches the async method's
 * result under `{prefix}:{entity}:{operation}:{identifier(args)}` with getOrSet semantics.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a decorator default must accept any method's parameters
export function Cached<A extends unknown[] = any[]>(opts: CachedDecoratorOptions<A>) {
  if (typeof opts !== 'object' || opts === null || typeof opts.entity !== 'string' || typeof opts.operation !== 'string') {
    throw new CacheOptionsError('@Cached needs { entity, operation }');
  }
  return function <This, M extends unknown[], R>(method: AsyncMethod<This, M, R>, context: ClassMethodDecoratorContext<This, AsyncMethod<This, M, R>>) {
    if (context.kind !== 'method') throw new CacheOptionsError('@Cached decorates methods only');
    return function (this: This, ...margs: M): Promise<R> {
      const args = margs as unknown as A;
      let key: string;
      let cache;
      const o: GetOrSetOptions = {};
      try {
        cache = resolveCache(opts.cache, `@Cached ${String(context.name)}`);
        key = buildKey(cache, opts.entity, opts.operation, opts.params ? opts.params(...args) : defaultParams(args));
        if (opts.ttl !== undefined) o.ttl = opts.ttl;
        if (opts.tags !== undefined) o.tags = typeof opts.tags === 'function' ? opts.tags(...args) : opts.tags;
      } catch (err) {
        return Promise.reject(err);
      }
      return cache.getOrSet(key, () => method.apply(this, margs), o);
    };
  };
}

export interface InvalidateCacheOptions<A extends unknown[] = unknown[]> {
  cache?: CacheRef;
  /** Glob(s) relative to the prefix; a function receives the call's arguments (escape user input with `escapeGlob`). */
  pattern?: string | readonly string[] | ((...args: A) => string | readonly string[]);
  namespace?: NamespaceRef | string | readonly (NamespaceRef | string)[];
  tags?: readonly string[] | ((...args: A) => readonly string[]);
  keys?: (...args: A) => readonly string[];
}

/**
 * Invalidates after the decorated method resolves (not when it throws). A failed invalidation is
 * reported through the cache's `error` event, never thrown at the caller.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a decorator default must accept any method's parameters
export function InvalidateCache<A extends unknown[] = any[]>(opts: InvalidateCacheOptions<A>) {
  if (typeof opts !== 'object' || opts === null || (opts.pattern === undefined && opts.namespace === undefined && opts.tags === undefined && opts.keys === undefined)) {
    throw new CacheOptionsError('@InvalidateCache needs at least one of pattern, namespace, tags, keys');
  }
  return function <This, M extends unknown[], R>(method: AsyncMethod<This, M, R>, context: ClassMethodDecoratorContext<This, AsyncMethod<This, M, R>>) {
    if (context.kind !== 'method') throw new CacheOptionsError('@InvalidateCache decorates methods only');
    return async function (this: This, ...margs: M): Promise<R> {
      const result = await method.apply(this, margs);
      const args = margs as unknown as A;
      const cache = resolveCache(opts.cache, `@InvalidateCache ${String(context.name)}`);
      const spec: InvalidateSpec = {};
      if (opts.pattern !== undefined) {
        const p = typeof opts.pattern === 'function' ? opts.pattern(...args) : opts.pattern;
        spec.patterns = typeof p === 'string' ? [p] : p;
      }
      if (opts.namespace !== undefined) {
        spec.namespaces = Array.isArray(opts.namespace) ? (opts.namespace as (NamespaceRef | string)[]) : [opts.namespace as NamespaceRef | string];
      }
      if (opts.tags !== undefined) spec.tags = typeof opts.tags === 'function' ? opts.tags(...args) : opts.tags;
      if (opts.keys !== undefined) spec.keys = opts.keys(...args);
      await invalidateOn(cache, spec);
      return result;
    };
  };
}

const warmers = new WeakMap<object, Set<string | symbol>>();

/** Marks a method to be called by `warmUp(instance)` (e.g. on startup). The method takes no arguments. */
export function WarmUp<This extends object>(_method: (this: This) => unknown, context: ClassMethodDecoratorContext<This, (this: This) => unknown>): void {
  if (context.kind !== 'method' || context.static) throw new CacheOptionsError('@WarmUp decorates instance methods only');
  const name = context.name;
  context.addInitializer(function (this: This) {
    let set = warmers.get(this);
    if (!set) {
      set = new Set();
      warmers.set(this, set);
    }
    set.add(name);
  });
}

export interface WarmUpReport {
  ran: string[];
  failed: { method: string; error: unknown }[];
}

/** One `@WarmUp` method of an instance, as handed to a {@link WarmUpRegistry}. */
export interface WarmUpTask {
  name: string;
  run: () => unknown;
}

/** Runs `warmUp()`'s tasks instead of core (a scheduler above core, e.g. `@stratacache/warming`). */
export type WarmUpRegistry = (instance: object, tasks: readonly WarmUpTask[]) => Promise<WarmUpReport>;

let warmUpRegistry: WarmUpRegistry | undefined;

/**
 * Installs (or with `undefined` removes) the scheduler `warmUp()` hands its methods to, and returns
 * the one installed before. Core never imports the layer above: `@stratacache/warming`'s
 * `Warmer.start()` installs itself here and restores the previous one on `close()`.
 */
export function setWarmUpRegistry(registry: WarmUpRegistry | undefined): WarmUpRegistry | undefined {
  const previous = warmUpRegistry;
  warmUpRegistry = registry;
  return previous;
}

/**
 * Calls every `@WarmUp` method of `instance` — through the installed {@link WarmUpRegistry} when
 * there is one, else concurrently here; failures are collected, not thrown.
 */
export async function warmUp(instance: object): Promise<WarmUpReport> {
  const names = [...(warmers.get(instance) ?? [])];
  if (warmUpRegistry !== undefined) {
    const rec = instance as Record<string | symbol, () => unknown>;
    return warmUpRegistry(
      instance,
      names.map((n) => ({ name: String(n), run: () => rec[n]?.call(instance) })),
    );
  }
  const report: WarmUpReport = { ran: [], failed: [] };
  await Promise.all(
    names.map(async (n) => {
      try {
        await (instance as Record<string | symbol, () => unknown>)[n]?.();
        report.ran.push(String(n));
      } catch (error) {
        report.failed.push({ method: String(n), error });
      }
    }),
  );
  return report;
}
