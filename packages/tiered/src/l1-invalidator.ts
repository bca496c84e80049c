import type { InvalidateResult, NamespaceKey, StorePublish } from '@stratacache/core';
import { globToRegExp } from '@stratacache/core';
import type { BusMessage, BusMessageType } from './bus-message';
import { BUS_PART_SEP } from './bus-message';
import type { TieredEvent } from './events';
import type { BusStats } from './invalidation-bus';
import { InvalidationBus } from './invalidation-bus';
import type { L1Tier } from './l1-tier';
import type { L2InvalidateTarget } from './l2';
import { RetryQueue } from './retry-queue';
import type { Runtime } from './runtime';
import type { KeySignals } from './stampede-guard';
import { isOptionsError } from './validate';

/** Bound of the background retry queue of failed L2 invalidations (oldest dropped first, with an `error` event). */
const MAX_RETRIES = 1_000;

/**
 * The L1 invalidator: the one invalidation path (drop local L1, apply on L2, drop again, publish on
 * the bus, retry L2 in the background on failure), the bus (messages from other instances, down /
 * reconnect / up) and the matching of a message against L1 keys (key, tag, namespace, pattern, clear).
 */
export class L1Invalidator {
  readonly bus: InvalidationBus | undefined;
  /** Whether the bus is subscribed (true when there is no bus). */
  busUp: boolean;
  readonly ready: Promise<void>;
  private readonly retries: RetryQueue;
  /** The `merge` spec of this instance's `s` messages (see `setMessage`). */
  private setHead: { head: string; sep: string } | undefined;

  constructor(
    private readonly rt: Runtime,
    private readonly l1: L1Tier | undefined,
    private readonly signals: KeySignals,
    instanceId: string,
  ) {
    const l2 = rt.l2;
    this.retries = new RetryQueue(MAX_RETRIES, (task, why) => {
      rt.onError(new Error(`L2 invalidation ${task.id.replaceAll('\u0000', ' ')} given up (${why})`), 'l2.retry');
    });
    const busOpts = rt.opts.bus;
    if (busOpts === undefined) {
      this.busUp = true;
      this.ready = Promise.resolve();
      return;
    }
    this.busUp = false;
    if (l1 !== undefined) l1.busUp = false;
    const channel = busOpts.channel ?? `${l2.keys.prefix}:__tiered_bus`;
    this.bus = new InvalidationBus(
      l2.store,
      channel,
      instanceId,
      {
        onMessage: (m) => this.onBusMessage(m),
        onDown: () => {
          this.setUp(false);
          rt.emit('bus', undefined, 'l1', { kind: 'down' });
        },
        onReconnect: () => {
          // Messages may have been missed during the outage: no L1 copy is served before it was verified
          // against L2 once (its next read goes to L2: a hit replaces it, a miss drops it). The copies are
          // kept, not cleared: while L2 cannot answer they remain the fail-safe values.
          const n = this.l1?.cache.markAllStale() ?? 0;
          l2.refreshBarriers?.();
          rt.emit('bus', undefined, 'l1', { kind: 'reconnect', count: n });
        },
        onUp: (first) => {
          if (first) this.l1?.boundUnsubscribed();
          this.setUp(true);
        },
        onError: (err, op) => rt.onError(err, `bus.${op}`),
      },
      200,
      Math.max(50, l2.opTimeoutMs),
    );
    this.ready = this.bus.start().then(
      () => undefined,
      (err: unknown) => rt.onError(err, 'bus.subscribe'),
    );
  }

  private setUp(up: boolean): void {
    this.busUp = up;
    if (this.l1 !== undefined) this.l1.busUp = up;
  }

  /** Tells other instances their copy of `key` is stale (after L2 stored a new value; also wakes their stampede followers). */
  /** The `s` message of `key` for the fused write to publish itself (undefined without a bus). */
  setMessage(key: string): StorePublish | undefined {
    const bus = this.bus;
    if (bus === undefined) return undefined;
    // a store that batches the writes of a tick may publish their `s` messages as one (parts joined)
    const head = (this.setHead ??= { head: bus.encode('s', []), sep: BUS_PART_SEP });
    return { channel: bus.channel, message: head.head + key, merge: head };
  }

  /** Counts an `s` message the fused write published. */
  setPublished(): void {
    this.bus?.sentElsewhere();
  }

  publishSet(key: string): Promise<void> {
    return this.bus === undefined ? Promise.resolve() : this.bus.publish('s', [key]);
  }

  /**
   * The one invalidation path: drop local L1, apply on L2, drop local L1 again (a concurrent fill may
   * have raced the L2 write), publish the L1 drop on the bus — whether L2 succeeded or not — and on
   * failure report it and retry L2 in the background.
   */
  async invalidateAll(type: BusMessageType, parts: string[], target: L2InvalidateTarget | undefined, kind: string): Promise<InvalidateResult> {
    const rt = this.rt;
    this.applyLocal(type, parts);
    const until = this.retryUntil(type, parts);
    const res = await this.applyL2(target);
    this.applyLocal(type, parts);
    const label = parts.join(':');
    if (!res.ok) {
      rt.onError(new Error(`L2 ${kind} invalidation failed (${res.reason ?? 'error'}); retrying in the background`), `l2.${kind}`, type === 'd' ? parts[0] : undefined);
      this.retries.add({
        id: `${type}\u0000${parts.join('\u0000')}`,
        until,
        run: async () => (await this.applyL2(target)).ok,
        landed: () => {
          // L2 now holds the invalidation: drop what may have been refilled meanwhile, here and elsewhere.
          this.applyLocal(type, parts);
          if (rt.emitter.has('invalidate')) rt.emit('invalidate', type === 'd' ? parts[0] : undefined, 'l2', { kind, target: label, count: 0 });
          void this.bus?.publish(type, parts);
        },
      });
    }
    if (type === 'd' && res.ok && rt.emitter.has('delete')) rt.emit('delete', parts[0], 'l2', { count: res.deleted });
    if (rt.emitter.has('invalidate')) {
      const extra: Partial<TieredEvent> = { kind, target: label, count: res.deleted, ok: res.ok };
      if (res.reason !== undefined) extra.reason = res.reason;
      rt.emit('invalidate', type === 'd' ? parts[0] : undefined, 'l2', extra);
    }
    await this.bus?.publish(type, parts);
    return res;
  }

  private async applyL2(target: L2InvalidateTarget | undefined): Promise<InvalidateResult> {
    const l2 = this.rt.l2;
    try {
      if (target === undefined) return await l2.clear();
      if (target.key !== undefined) return await l2.delete(target.key);
      return await l2.invalidate(target);
    } catch (err) {
      if (isOptionsError(err)) throw err;
      return { ok: false, reason: 'error', deleted: 0, barriers: 0 };
    }
  }

  /** How long a failed L2 invalidation is worth retrying: until what it hides has expired. */
  private retryUntil(type: BusMessageType, parts: readonly string[]): number {
    const max = Date.now() + this.rt.l2.maxTtlMs;
    if (type !== 'd') return max;
    const rec = this.l1?.peek(parts[0] as string);
    // The L1 copy's grace end is the L2 entry's physical expiry only if L1 holds the latest write; keep maxTtl otherwise.
    return rec === undefined ? max : Math.max(rec.graceUntil, Date.now() + 1_000);
  }

  /** Applies an invalidation to this instance's L1: which keys a message matches. */
  applyLocal(type: BusMessageType, parts: readonly string[]): number {
    const l1 = this.l1?.cache;
    if (l1 === undefined) return 0;
    switch (type) {
      case 'd': {
        let n = 0;
        for (const k of parts) if (l1.delete(k)) n++;
        return n;
      }
      case 's': {
        let n = 0;
        for (const k of parts) if (this.rt.opts.onRemoteSet === 'drop' ? l1.delete(k) : l1.markStale(k)) n++;
        return n;
      }
      case 't': {
        const tags = new Set(parts);
        return l1.deleteWhere((_k, r) => r.tags !== undefined && r.tags.some((t) => tags.has(t)));
      }
      case 'n': {
        let ns: NamespaceKey;
        try {
          ns = this.rt.l2.keys.namespaceKey(parts[0] ?? '', parts[1]);
        } catch {
          return 0; // a malformed message from another instance
        }
        return l1.deleteWhere((k) => ns.matches(k));
      }
      case 'p': {
        // Bus patterns are full globs (core's `fullPattern`), L1 keys are full keys.
        const re = globToRegExp(parts[0] ?? '');
        return l1.deleteWhere((k) => re.test(k));
      }
      case 'c': {
        const n = l1.size;
        l1.clear();
        return n;
      }
    }
  }

  private onBusMessage(m: BusMessage): void {
    // Another instance wrote a tag/namespace barrier (or cleared): core's short-lived barrier cache
    // (`barrierCacheMs`) must not hide it from our next L2 read.
    if (m.type === 't' || m.type === 'n' || m.type === 'c') this.rt.l2.refreshBarriers?.();
    const n = this.applyLocal(m.type, m.parts);
    if (m.type === 's' || m.type === 'd') for (const k of m.parts) this.signals.wake(k);
    if (this.rt.emitter.has('bus')) this.rt.emit('bus', m.parts.length === 1 ? m.parts[0] : undefined, 'l1', { kind: m.type, count: n });
  }

  stats(): BusStats | undefined {
    return this.bus?.stats();
  }

  /** Stops retrying failed L2 invalidations (first step of close). */
  stopRetries(): void {
    this.retries.close();
  }

  async close(): Promise<void> {
    await this.bus?.close();
  }
}
