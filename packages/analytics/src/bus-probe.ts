import type { Store } from '@stratacache/core';

/**
 * Measures the delivery time of the store's pub/sub — the transport of tiered's invalidation bus —
 * by publishing a probe on `channel` and timing its arrival on this instance's own subscription
 * (the store's shared subscriber connection). Tiered bus messages carry no send time, so this is
 * the bus lag as the transport sees it: `stratacache_bus_lag_seconds`.
 */
export class BusProbe {
  /** Last measured delivery time (seconds); undefined before the first probe or after a lost one. */
  lastLagSeconds: number | undefined;
  lost = 0;
  private unsubscribe: Promise<() => Promise<void>> | undefined;
  private readonly waiting = new Map<string, (at: number) => void>();
  private seq = 0;

  constructor(
    private readonly store: Store,
    readonly channel: string,
    private readonly id: string,
  ) {}

  /** One probe, bounded by `timeoutMs`. Never rejects. */
  async probe(timeoutMs = 1_000): Promise<number | undefined> {
    try {
      this.unsubscribe ??= this.store.subscribe(this.channel, (m) => {
        const text = m.toString();
        this.waiting.get(text)?.(performance.now());
      });
      await this.unsubscribe;
      const token = `${this.id}:${++this.seq}`;
      const t0 = performance.now();
      const arrived = new Promise<number | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), timeoutMs);
        timer.unref();
        this.waiting.set(token, (at) => {
          clearTimeout(timer);
          resolve(at);
        });
      });
      await this.store.publish(this.channel, token);
      const at = await arrived;
      this.waiting.delete(token);
      if (at === undefined) {
        this.lost++;
        this.lastLagSeconds = undefined;
        return undefined;
      }
      this.lastLagSeconds = (at - t0) / 1000;
      return this.lastLagSeconds;
    } catch {
      this.lastLagSeconds = undefined;
      return undefined;
    }
  }

  async close(): Promise<void> {
    const u = this.unsubscribe;
    this.unsubscribe = undefined;
    if (u) await u.then((off) => off()).catch(() => undefined);
  }
}
