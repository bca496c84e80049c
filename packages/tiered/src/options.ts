import { CacheOptionsError, HIT_SAMPLE_EVERY, toMs } from '@stratacache/core';
import type { Duration } from '@stratacache/core';
import type { L1Policy } from './l1-cache';
import type { TieredEvent } from './events';

/** L1 (in-process tier) options. */
export interface L1Options {
  /** Maximum number of entries. Default `10_000`. */
  maxEntries?: number;
  /** Maximum total size in bytes (estimated with `sizeOf`). Default `64 MiB`. `Infinity` = entry count only. */
  maxBytes?: number;
  /** How long an L1 copy is served without asking L2. Never longer than the entry's L2 TTL. Default `'5s'`. */
  ttl?: Duration;
  /** Eviction policy. Default `'lru'`. */
  policy?: L1Policy;
  /**
   * Values in L1 are shared by reference (default `false`: fastest, callers must not mutate what
   * they get). `true`: `structuredClone` on the way in and on every L1 hit.
   */
  clone?: boolean;
  /** Deep-freeze values put in L1, so a mutation throws in strict mode (useful in development). Default `false`. */
  freeze?: boolean;
  /** Size estimate of a value in bytes for `maxBytes`. Default: a bounded structural estimate. */
  sizeOf?: (value: unknown) => number;
}

/** Options shared by the instance (defaults) and each `getOrSet` call (overrides). */
export interface GetOrSetPolicy {
  /**
   * Logical TTL, counted from the write. Default: the L2 CacheService's TTL policy for the key.
   * `0` (per call, in `set`, `ctx.setTtl` or a TTL rule) = do not cache this value; as the instance
   * default it is rejected. Jitter (the policy's, or `jitter` of the call) applies to every TTL.
   */
  ttl?: Duration;
  /** Jitter fraction (0..1) for this call's TTL, overriding the TTL policy's; `0` = exactly the TTL. */
  jitter?: number;
  /** Grace period after logical expiry during which the stale value may be served. Default `0` (off). */
  grace?: Duration;
  /**
   * When a stale value (within grace) exists, wait at most this long for a fresh value, then
   * serve the stale one and let the factory finish in the background. `0` (default) = serve the
   * stale value at once and refresh in the background (stale-while-revalidate).
   */
  softTimeout?: Duration;
  /** Abort the factory after this long: its `signal` aborts and the call rejects with `FactoryTimeoutError` (or serves stale within grace). `0` (default) = no limit. */
  hardTimeout?: Duration;
  /** Fraction of the TTL after which a read refreshes the entry in the background, e.g. `0.8` = in the last 20 %. `0` (default) = off. */
  refreshAhead?: number;
  /** Cross-process stampede guard: how long a follower waits for the leader before calling the factory itself. Default `'5s'`. */
  lockWait?: Duration;
  /**
   * Fail-safe throttling: after the factory failed (threw, hard-timed out, or returned `ctx.fail()`)
   * while a stale value (within grace) exists, that stale value is served for this long without
   * calling the origin again. An L2 outage counts like a failure: while L2 cannot be read, a key whose
   * L1 copy can serve as a fail-safe value is refreshed from the origin at most once per window.
   * Default `'10s'` (≥ a Sentinel or Cluster failover with down-after / node-timeout of 1–5 s: the drills
   * measured 2.3–2.8 s for ioredis and 5.1–6.6 s for the cache); `0` = call the origin on every read.
   */
  failSafeThrottle?: Duration;
}

export interface TieredCacheOptions extends GetOrSetPolicy {
  /** L1 options, or `false` to disable L1 (every read goes to L2). */
  l1?: L1Options | false;
  /** Invalidation bus across instances. Default `true`. Channel: `${prefix}:__tiered_bus`. */
  bus?: boolean | { channel?: string };
  /** While the bus is disconnected, an L1 copy is trusted for at most this long after it was stored. Default `'1s'`. */
  busDownL1Ttl?: Duration;
  /** Cross-process stampede guard with `@stratacache/lock` (Redis stores only). Default `true`. */
  distributedLock?: boolean;
  /** TTL of the stampede lock; extended while the factory runs. Default `'10s'`. */
  lockTtl?: Duration;
  /**
   * The fused miss (with `distributedLock`, on an L2 whose store implements `readOrLock`: Redis,
   * Cluster, memory): the L2 read and the lock in one round trip before the factory, the write + lock
   * release + bus publish in one after. `false` = separate calls (`@stratacache/lock`). Default `true`.
   */
  fusedMiss?: boolean;
  /** What a `set` on another instance does to the local L1 copy: `'stale'` (default: kept only as a fail-safe fallback) or `'drop'`. */
  onRemoteSet?: 'stale' | 'drop';
  /** Instance id used as bus sender id (10 chars). Default: random. */
  instanceId?: string;
  /**
   * Called when an event listener (`on()`) throws. Listeners never break a cache call: a throwing one is
   * counted in `stats().listenerErrors` and handed here (a handler that throws is ignored). Default: none.
   */
  onListenerError?: (error: unknown, event: TieredEvent) => void;
  /**
   * Every this-many-th hit (L1 or L2) emits a `sampled_hit` event (`count`: this interval): a per-key
   * hit sample for observers that do not subscribe to `hit` (a `hit` listener makes every L1 hit build
   * an event). One integer countdown on the hit path; no event is built when nobody listens.
   * Default 64 (core's `HIT_SAMPLE_EVERY`); 1 .. 2^30.
   */
  hitSampleEvery?: number;
}

export interface ResolvedL1 {
  maxEntries: number;
  maxBytes: number;
  ttl: number;
  policy: L1Policy;
  clone: boolean;
  freeze: boolean;
  sizeOf: ((value: unknown) => number) | undefined;
}

export interface ResolvedPolicy {
  ttl: number | undefined;
  jitter: number | undefined;
  grace: number;
  softTimeout: number;
  hardTimeout: number;
  refreshAhead: number;
  lockWait: number;
  failSafeThrottle: number;
}

export interface ResolvedOptions extends ResolvedPolicy {
  l1: ResolvedL1 | undefined;
  bus: { channel: string | undefined } | undefined;
  busDownL1Ttl: number;
  distributedLock: boolean;
  lockTtl: number;
  fusedMiss: boolean;
  onRemoteSet: 'stale' | 'drop';
  instanceId: string | undefined;
  hitSampleEvery: number;
}

const KNOWN = new Set([
  'l1', 'bus', 'busDownL1Ttl', 'distributedLock', 'lockTtl', 'fusedMiss', 'onRemoteSet', 'instanceId', 'onListenerError', 'hitSampleEvery',
  'ttl', 'jitter', 'grace', 'softTimeout', 'hardTimeout', 'refreshAhead', 'lockWait', 'failSafeThrottle',
]);

/** Default `failSafeThrottle`: 10 s (≥ the expected failover time of Sentinel / Cluster, see the option). */
export const DEFAULT_FAIL_SAFE_THROTTLE_MS = 10_000;

function fail(msg: string): never {
  throw new CacheOptionsError(`TieredCache: ${msg}`);
}

function posInt(v: unknown, name: string, allowInfinity = false): number {
  if (typeof v === 'number' && ((allowInfinity && v === Infinity) || (Number.isInteger(v) && v >= 1))) return v;
  return fail(`${name} must be a positive integer${allowInfinity ? ' or Infinity' : ''}, got ${String(v)}`);
}

function fraction(v: unknown, name: string): number {
  if (typeof v === 'number' && v >= 0 && v < 1) return v;
  return fail(`${name} must be a number in [0, 1) (0 = off), got ${String(v)}`);
}

export function resolvePolicy(o: GetOrSetPolicy, base: ResolvedPolicy | undefined, where: string): ResolvedPolicy {
  const d = (v: Duration | undefined, name: string, dflt: number): number => (v === undefined ? dflt : toMs(v, `${where}.${name}`));
  const ttl = o.ttl === undefined ? base?.ttl : toMs(o.ttl, `${where}.ttl`);
  // 0 = do not cache: valid per call, not as the instance default (it would cache nothing)
  if (ttl === 0 && base === undefined) fail(`${where}.ttl must be > 0 ms as the default (0 = "do not cache" is a per-call value)`);
  if (o.jitter !== undefined && !(typeof o.jitter === 'number' && o.jitter >= 0 && o.jitter <= 1)) fail(`${where}.jitter must be a fraction between 0 and 1`);
  return {
    ttl,
    jitter: o.jitter === undefined ? base?.jitter : o.jitter,
    grace: d(o.grace, 'grace', base?.grace ?? 0),
    softTimeout: d(o.softTimeout, 'softTimeout', base?.softTimeout ?? 0),
    hardTimeout: d(o.hardTimeout, 'hardTimeout', base?.hardTimeout ?? 0),
    refreshAhead: o.refreshAhead === undefined ? (base?.refreshAhead ?? 0) : fraction(o.refreshAhead, `${where}.refreshAhead`),
    lockWait: d(o.lockWait, 'lockWait', base?.lockWait ?? 5_000),
    failSafeThrottle: d(o.failSafeThrottle, 'failSafeThrottle', base?.failSafeThrottle ?? DEFAULT_FAIL_SAFE_THROTTLE_MS),
  };
}

export function resolveOptions(input: unknown): ResolvedOptions {
  if (input === undefined) input = {};
  if (typeof input !== 'object' || input === null) fail('options must be an object');
  const o = input as TieredCacheOptions & Record<string, unknown>;
  if ('l2' in o) fail('there is no l2 option: pass the CacheService as the first argument, new TieredCache(l2, options)');
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) fail(`unknown option ${JSON.stringify(k)}`);
  const policy = resolvePolicy(o, undefined, 'options');
  if (policy.hardTimeout > 0 && policy.softTimeout > 0 && policy.softTimeout >= policy.hardTimeout) {
    fail(`softTimeout (${policy.softTimeout} ms) must be shorter than hardTimeout (${policy.hardTimeout} ms)`);
  }

  let l1: ResolvedL1 | undefined;
  if (o.l1 !== false) {
    const l = o.l1 ?? {};
    if (typeof l !== 'object' || l === null) fail('l1 must be an object or false');
    const policyName = l.policy ?? 'lru';
    if (policyName !== 'lru' && policyName !== 'fifo' && policyName !== 'lfu') {
      fail(`l1.policy must be 'lru', 'fifo' or 'lfu', got ${JSON.stringify(policyName)}`);
    }
    if (l.sizeOf !== undefined && typeof l.sizeOf !== 'function') fail('l1.sizeOf must be a function');
    const ttl = toMs(l.ttl ?? 5_000, 'TieredCache l1.ttl');
    if (ttl <= 0) fail('l1.ttl must be > 0 (use l1: false to disable L1)');
    l1 = {
      maxEntries: posInt(l.maxEntries ?? 10_000, 'l1.maxEntries'),
      maxBytes: posInt(l.maxBytes ?? 64 * 1024 * 1024, 'l1.maxBytes', true),
      ttl,
      policy: policyName,
      clone: bool(l.clone, 'l1.clone', false),
      freeze: bool(l.freeze, 'l1.freeze', false),
      sizeOf: l.sizeOf,
    };
  }

  let bus: ResolvedOptions['bus'];
  if (o.bus === undefined || o.bus === true) bus = { channel: undefined };
  else if (o.bus === false) bus = undefined;
  else if (typeof o.bus === 'object' && o.bus !== null) {
    if (o.bus.channel !== undefined && (typeof o.bus.channel !== 'string' || o.bus.channel.length === 0)) {
      fail('bus.channel must be a non-empty string');
    }
    bus = { channel: o.bus.channel };
  } else fail('bus must be a boolean or { channel }');

  const onRemoteSet = o.onRemoteSet ?? 'stale';
  if (onRemoteSet !== 'stale' && onRemoteSet !== 'drop') fail(`onRemoteSet must be 'stale' or 'drop'`);
  if (o.instanceId !== undefined && (typeof o.instanceId !== 'string' || o.instanceId.length !== 10 || o.instanceId.includes('\u0000'))) {
    fail('instanceId must be a string of exactly 10 characters');
  }
  if (o.onListenerError !== undefined && typeof o.onListenerError !== 'function') {
    fail('onListenerError must be a function (error, event) => void');
  }
  const hitSampleEvery = o.hitSampleEvery === undefined ? HIT_SAMPLE_EVERY : posInt(o.hitSampleEvery, 'hitSampleEvery');
  if (hitSampleEvery > 2 ** 30) fail('hitSampleEvery must be at most 2^30');
  const lockTtl = toMs(o.lockTtl ?? 10_000, 'TieredCache lockTtl');
  if (lockTtl < 100) fail('lockTtl must be at least 100 ms');
  return {
    ...policy,
    l1,
    bus,
    busDownL1Ttl: toMs(o.busDownL1Ttl ?? 1_000, 'TieredCache busDownL1Ttl'),
    distributedLock: bool(o.distributedLock, 'distributedLock', true),
    lockTtl,
    fusedMiss: bool(o.fusedMiss, 'fusedMiss', true),
    onRemoteSet,
    instanceId: o.instanceId,
    hitSampleEvery,
  };
}

function bool(v: unknown, name: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') fail(`${name} must be a boolean`);
  return v;
}
