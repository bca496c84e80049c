import type { Store } from '@stratacache/core';
import { type BusMessage, type BusMessageType, decodeBusMessage, encodeBusMessage } from './bus-message';

export interface BusCallbacks {
  /** A decoded message from another instance. */
  onMessage(msg: BusMessage): void;
  /** The bus went down (messages may be missed from now on). */
  onDown(): void;
  /** The bus is subscribed again after being down: everything missed must be assumed stale (called before `onUp`). */
  onReconnect(): void;
  /** The bus is subscribed (`first`: for the first time since start). */
  onUp(first: boolean): void;
  onError(err: unknown, op: 'publish' | 'subscribe'): void;
}

export interface BusStats {
  connected: boolean;
  sent: number;
  received: number;
  ignored: number;
  publishErrors: number;
  reconnects: number;
  queued: number;
}

const MAX_RETRY_QUEUE = 1_000;

/**
 * Invalidation bus over the Store's pub/sub: one channel per prefix, small string messages that
 * carry the sender id (own messages are dropped before decoding).
 *
 * It only uses the `Store` interface: `store.subscribe` (a `RedisStore` multiplexes every channel of
 * every cache on one subscriber connection, so 1000 tenant caches on a shard share it) and, when
 * the store has it, `store.onConnectionChange` to follow the connection — `down` (messages may be
 * missed from now on) and `ready` (a `RedisStore` reports it only once its subscriber is
 * re-subscribed): then the reconnect is reported. Other stores are polled with `store.isReady()`.
 * Publishes that fail are kept in a deduplicated, bounded retry queue flushed on reconnect.
 */
export class InvalidationBus {
  readonly channel: string;
  readonly senderId: string;
  private connected = false;
  private everConnected = false;
  private closed = false;
  private unsubscribeStore: (() => Promise<void>) | undefined;
  private offConnection: (() => void) | undefined;
  private poll: NodeJS.Timeout | undefined;
  private firstUp: (() => void) | undefined;
  private readonly retry = new Set<string>();
  private startP: Promise<void> | undefined;
  readonly counters = { sent: 0, received: 0, ignored: 0, publishErrors: 0, reconnects: 0 };

  constructor(
    private readonly store: Store,
    channel: string,
    senderId: string,
    private readonly cb: BusCallbacks,
    private readonly pollIntervalMs = 200,
    private readonly publishTimeoutMs = 1_000,
  ) {
    this.channel = channel;
    this.senderId = senderId;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Starts subscribing; resolves once subscribed (or rejects on the first failure; the bus keeps retrying). */
  start(): Promise<void> {
    if (!this.startP) this.startP = this.startViaStore();
    return this.startP;
  }

  private readonly onRaw = (raw: string): void => {
    if (this.closed) return;
    // self-echo: compare the sender id in place, no decoding, no allocation
    if (raw.startsWith(this.senderId, 2)) return;
    this.counters.received++;
    const msg = decodeBusMessage(raw);
    if (msg === undefined) {
      this.counters.ignored++;
      return;
    }
    this.cb.onMessage(msg);
  };

  private startViaStore(): Promise<void> {
    const handler = (m: Buffer): void => this.onRaw(m.toString('utf8'));
    const events = typeof this.store.onConnectionChange === 'function';
    let subscribing = false;
    const trySubscribe = async (): Promise<void> => {
      if (subscribing || this.closed || this.unsubscribeStore) return;
      subscribing = true;
      try {
        const off = await this.store.subscribe(this.channel, handler);
        if (this.closed) {
          await off().catch(() => undefined);
          return;
        }
        this.unsubscribeStore = off;
        // with connection events, polling was only needed to retry the first subscription
        if (events && this.poll) {
          clearInterval(this.poll);
          this.poll = undefined;
        }
        if (this.store.isReady()) this.markUp();
      } finally {
        subscribing = false;
      }
    };
    const down = (): void => {
      if (!this.connected) return;
      this.connected = false;
      this.cb.onDown();
    };
    if (events) {
      this.offConnection = this.store.onConnectionChange!((change) => {
        if (this.closed) return;
        if (change.state === 'down') down();
        else if (!this.unsubscribeStore) trySubscribe().catch((err: unknown) => this.cb.onError(err, 'subscribe'));
        else if (!this.connected) this.markUp();
      });
    }
    // Retries a failed first subscription; on stores without connection events it also follows isReady().
    this.poll = setInterval(() => {
      if (!this.unsubscribeStore) {
        trySubscribe().catch((err: unknown) => this.cb.onError(err, 'subscribe'));
        return;
      }
      const ready = this.store.isReady();
      if (!ready) down();
      else if (!this.connected) this.markUp();
    }, this.pollIntervalMs);
    this.poll.unref();
    // Resolves once up (subscribed and the store ready); rejects on the first failure (retries go on).
    return new Promise<void>((resolve, reject) => {
      this.firstUp = resolve;
      trySubscribe().catch((err: unknown) => {
        this.firstUp = undefined;
        reject(err);
      });
    });
  }

  private markUp(): void {
    this.connected = true;
    const firstUp = this.firstUp;
    this.firstUp = undefined;
    firstUp?.();
    const first = !this.everConnected;
    if (!first) {
      this.counters.reconnects++;
      this.cb.onReconnect();
    }
    this.everConnected = true;
    this.cb.onUp(first);
    if (this.retry.size > 0) this.flushRetry();
  }

  private flushRetry(): void {
    const pending = [...this.retry];
    this.retry.clear();
    for (const m of pending) void this.send(m, true);
  }

  /** Publishes a message; never throws. Resolves once handed to the server (or queued on failure). */
  publish(type: BusMessageType, parts: readonly string[]): Promise<void> {
    return this.send(encodeBusMessage(type, this.senderId, parts), false);
  }

  /** A message for another sender to publish in one step with its write (the fused miss): the raw string, counted with `sent()`. */
  encode(type: BusMessageType, parts: readonly string[]): string {
    return encodeBusMessage(type, this.senderId, parts);
  }

  /** Counts a message published by someone else (see `encode`). */
  sentElsewhere(): void {
    this.counters.sent++;
  }

  private async send(raw: string, isRetry: boolean): Promise<void> {
    if (this.closed) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      // A hung Redis (accepts TCP, never answers) must not hang the writer: bounded wait, then retry queue.
      await Promise.race([
        this.store.publish(this.channel, raw),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`bus publish did not answer within ${this.publishTimeoutMs} ms`)), this.publishTimeoutMs);
        }),
      ]);
      this.counters.sent++;
      // the server answers again: resend what failed before (duplicates are harmless)
      if (!isRetry && this.retry.size > 0) this.flushRetry();
    } catch (err) {
      this.counters.publishErrors++;
      // deduplicated (a Set of encoded messages) and bounded; flushed when the bus is up again
      if (this.retry.size < MAX_RETRY_QUEUE) this.retry.add(raw);
      if (!isRetry) this.cb.onError(err, 'publish');
    } finally {
      clearTimeout(timer);
    }
  }

  stats(): BusStats {
    return { connected: this.connected, ...this.counters, queued: this.retry.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    if (this.poll) clearInterval(this.poll);
    this.offConnection?.();
    if (this.unsubscribeStore) await this.unsubscribeStore().catch(() => undefined);
    this.retry.clear();
  }
}

