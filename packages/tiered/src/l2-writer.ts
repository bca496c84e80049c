import type { CacheEntry, SetResult } from '@stratacache/core';
import type { FusedLock } from './fused-lock';
import type { L1Invalidator } from './l1-invalidator';
import type { L1Tier } from './l1-tier';
import type { Runtime } from './runtime';
import { namespaceOf } from './runtime';
import type { KeySignals } from './stampede-guard';
import { isOptionsError } from './validate';

const PENDING: unique symbol = Symbol('pending');
const PENDING_P: Promise<typeof PENDING> = Promise.resolve(PENDING);

/**
 * The write path: the TTL of a write (core's TTL policy, jitter included), the L2 write of the
 * envelope, the L1 fill that follows it, and the bus message once L2 stored the value.
 */
export class L2Writer {
  constructor(
    private readonly rt: Runtime,
    private readonly l1: L1Tier | undefined,
    private readonly invalidator: L1Invalidator,
    private readonly signals: KeySignals,
  ) {}

  /** The TTL of a write: explicit or from core's TTL policy (entity / operation read as core reads them), jitter applied to both (0 stays 0 = do not cache). */
  resolveTtl(key: string, ttl: number | undefined, jitter: number | undefined): number {
    // an explicit TTL decides alone (no TTL rule is matched, so the key's namespace is not needed)
    if (ttl !== undefined) return this.rt.l2.ttlPolicy.resolve(key, jitter === undefined ? { ttl } : { ttl, jitter });
    const ns = namespaceOf(key, this.rt.l2.keys.prefix);
    const hint: { entity?: string; operation?: string; ttl?: number; jitter?: number } = {};
    if (ns !== undefined) {
      hint.entity = ns.entity;
      if (ns.operation !== undefined) hint.operation = ns.operation;
    }
    if (ttl !== undefined) hint.ttl = ttl;
    if (jitter !== undefined) hint.jitter = jitter;
    return this.rt.l2.ttlPolicy.resolve(key, hint);
  }

  /**
   * Starts the L2 write and resolves as soon as L2 has accepted or refused the value (core encodes it
   * and checks `maxItemSize` before its first await), with `done` for the rest (the round trip and the
   * bus publish). L1 never holds a value L2 refused (encoding failed, over maxItemSize: an older copy is
   * dropped too); a value L2 accepted goes into L1 at once — if L2 then turns out unreachable, it stays
   * as this process's fail-safe copy. Other instances are told their copy is stale only after L2 stored
   * it. `createdAt` (compared with barriers) is when the value was produced; the TTL counts from the write.
   */
  async start(key: string, value: unknown, ttlIn: number | undefined, grace: number, tags: readonly string[] | undefined, createdAt: number, jitter: number | undefined, lock?: FusedLock): Promise<{ done: Promise<SetResult> }> {
    const rt = this.rt;
    const ttl = this.resolveTtl(key, ttlIn, jitter);
    if (!(ttl > 0)) {
      // ttl 0 (call, ctx.setTtl or a TTL rule) = do not cache this value
      this.l1?.delete(key);
      return { done: Promise.resolve({ ok: false, reason: 'bypass' }) };
    }
    const expiresAt = rt.l2.now() + ttl;
    const entry: CacheEntry = { value, createdAt, expiresAt };
    if (grace > 0) entry.graceUntil = expiresAt + grace;
    if (tags !== undefined && tags.length > 0) entry.tags = [...tags];
    // The fused miss: entry + lock release + bus message in one round trip (the `s` message is then sent).
    const fusedMsg = lock === undefined ? undefined : this.invalidator.setMessage(key);
    let first: SetResult | typeof PENDING;
    let pending: Promise<SetResult>;
    try {
      pending = lock === undefined ? rt.l2.setEntry(key, entry, ttl + grace) : lock.write(entry, ttl + grace, fusedMsg);
      first = await Promise.race([pending, PENDING_P]);
    } catch (err) {
      // the write never reached the store: the lock is released alone
      if (lock !== undefined) void lock.releaseNow();
      // invalid arguments (e.g. value undefined) are the caller's bug: rethrow
      if (isOptionsError(err)) throw err;
      // EncodeError (a symbol, a cycle, …): L2 refused the value — never serve it from L1
      rt.onError(err, 'encode', key);
      this.l1?.delete(key);
      return { done: Promise.resolve({ ok: false, reason: 'error' }) };
    }
    if (first !== PENDING && !first.ok && first.reason === 'too_large') {
      // L2 refused the value itself (over maxItemSize): never serve it from L1 (an older copy is superseded)
      this.l1?.delete(key);
      return { done: Promise.resolve(first) };
    }
    // Accepted for writing (or L2 unreachable: the value is valid, kept as the fail-safe copy, trusted
    // for l1.ttl, and for busDownL1Ttl only while the bus is down).
    this.l1?.fill(key, entry);
    const done = (first === PENDING ? pending : Promise.resolve(first)).then(
      (res) => this.written(key, ttl, res, lock !== undefined),
      (err: unknown): SetResult => {
        rt.onError(err, 'l2.set', key);
        return { ok: false, reason: 'error' };
      },
    );
    return { done };
  }

  /** After the L2 write: `set` event, publish (only after L2 stored it; also wakes stampede followers). */
  private async written(key: string, ttl: number, res: SetResult, fused: boolean): Promise<SetResult> {
    this.signals.wake(key);
    if (!res.ok) return res;
    if (this.rt.emitter.has('set')) this.rt.emit('set', key, 'origin', { ttlMs: ttl });
    if (fused) this.invalidator.setPublished();
    else await this.invalidator.publishSet(key);
    return res;
  }
}
