import { ReplyError } from 'ioredis';
import type { Cluster, Redis } from 'ioredis';
import { StoreClosedError, StoreUnavailableError } from './errors';
import type { ConnectionChange, ConnectionListener } from './store';

type Client = Redis | Cluster;

/**
 * The connection health of a `RedisStore`: whether a command may be sent now, and the
 * `ready`/`down` changes reported by `Store.onConnectionChange`.
 *
 * - **Fail fast.** Once the connection was ready, or its first attempt failed, a command issued
 *   while it is not ready is refused at once (`StoreUnavailableError`) instead of waiting in
 *   ioredis' offline queue; commands issued during the very first connect wait for it, but are
 *   refused as soon as it fails.
 * - **Hang detection.** Commands in flight with no reply for `hungAfterMs` (a SIGSTOPped server
 *   keeps TCP open) mark the connection down; a PING every `hungAfterMs / 2` finds out when it
 *   answers again. Cost on the hot path: one side-branch promise reaction per command. Not on a
 *   Cluster: there the commands in flight may all be waiting for one dead master while the others
 *   have nothing to answer, and a hung master is cut by its own breaker (per-master breakers).
 * - **Subscriber.** Once the pub/sub connection was ready, its being down (or not re-subscribed
 *   yet) also counts as down: messages may be missed.
 */
export class ConnectionMonitor {
  /** The last connection error seen (message only; never contains credentials from the URL). */
  lastError: string | undefined;
  private closed = false;
  private failFast: boolean;
  private startup: { promise: Promise<never>; reject: (err: unknown) => void } | undefined;
  private inflight = 0;
  private replies = 0;
  private lastReplies = 0;
  private stalledTicks = 0;
  private hung = false;
  private watchdog: NodeJS.Timeout | undefined;
  private pingOut = false;
  private subscriberDown = false;
  /** Last readiness reported; undefined while the first connect is in progress (nothing reported yet). */
  private readyState: boolean | undefined;
  /** Last command readiness reported (the subscriber aside). */
  private commandsState: boolean | undefined;
  private readonly listeners = new Set<ConnectionListener>();
  /** Hang detection is on (not on a Cluster: see the class comment). */
  private readonly watchHangs: boolean;

  constructor(
    private readonly client: Client,
    private readonly kind: string,
    readonly hungAfterMs: number,
  ) {
    // Without an error listener ioredis prints "Unhandled error event" on every failed reconnect.
    client.on('error', this.onError);
    client.on('ready', this.onReady);
    client.on('close', this.onDown);
    client.on('end', this.onDown);
    client.on('reconnecting', this.onDown);
    const status = client.status;
    this.failFast = status !== 'wait' && status !== 'connecting' && status !== 'connect';
    this.readyState = status === 'ready' ? true : this.failFast ? false : undefined;
    this.commandsState = this.readyState;
    this.watchHangs = (client as { isCluster?: boolean }).isCluster !== true;
  }

  /** The fast path: the connection is ready and answering. */
  up(): boolean {
    return this.client.status === 'ready' && !this.hung && !this.closed;
  }

  isReady(): boolean {
    return this.readyState === true && !this.closed;
  }

  onConnectionChange(listener: ConnectionListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Why a command cannot be sent now, or undefined when it can. */
  refusal(): Error | undefined {
    if (this.closed) return new StoreClosedError(this.kind);
    if (this.hung) return new StoreUnavailableError(`${this.kind} store is unavailable: no reply within ${this.hungAfterMs} ms`);
    if (this.failFast && this.client.status !== 'ready') return new StoreUnavailableError(`${this.kind} store is unavailable: connection is ${this.client.status}`);
    return undefined;
  }

  /** Sends one command (see the class comment for when it is refused). */
  send<T>(run: () => Promise<T>): Promise<T> {
    if (this.up()) return this.track(run());
    const why = this.refusal();
    if (why) return Promise.reject(why);
    if (this.startup === undefined) {
      let reject!: (err: unknown) => void;
      const promise = new Promise<never>((_, r) => {
        reject = r;
      });
      promise.catch(() => undefined);
      this.startup = { promise, reject };
    }
    return Promise.race([this.track(run()), this.startup.promise]);
  }

  /** Counts a command in flight for hang detection (one side-branch reaction, no closure). */
  track<T>(p: Promise<T>): Promise<T> {
    if (!this.watchHangs) return p;
    if (this.inflight++ === 0 && this.watchdog === undefined) this.startWatchdog();
    p.then(this.onReply, this.onFail);
    return p;
  }

  /** Counts `sub` (the pub/sub connection) in readiness once it was ready; `channels()` to re-subscribe. */
  watchSubscriber(sub: Client, channels: () => string[]): void {
    sub.on('error', this.recordError);
    let wasReady = false;
    const down = (): void => {
      if (!wasReady || this.subscriberDown) return;
      this.subscriberDown = true;
      this.update('close');
    };
    sub.on('close', down);
    sub.on('end', down);
    sub.on('reconnecting', down);
    sub.on('ready', () => {
      if (!wasReady) {
        wasReady = true;
        return;
      }
      // ioredis re-subscribes by itself; subscribe explicitly (idempotent) to know when it is done
      const list = channels();
      const up = (): void => {
        if (this.closed || sub.status !== 'ready') return;
        this.subscriberDown = false;
        this.update('connect');
      };
      if (list.length === 0) up();
      else sub.subscribe(...list).then(up, () => undefined);
    });
  }

  /** Stops the watchdog and detaches from the client. */
  close(): void {
    this.closed = true;
    this.stopWatchdog();
    this.listeners.clear();
    this.readyState = false;
    this.client.off('error', this.onError);
    this.client.off('ready', this.onReady);
    this.client.off('close', this.onDown);
    this.client.off('end', this.onDown);
    this.client.off('reconnecting', this.onDown);
  }

  readonly recordError = (err: unknown): void => {
    this.lastError = err instanceof Error ? err.message : String(err);
  };

  private readonly onError = (err: unknown): void => {
    this.recordError(err);
    // Before the first ready an error is a failed connect attempt: a Sentinel client that reaches no
    // sentinel only emits `error` (it stays `connecting` while it retries), a refused port `error` then `close`.
    if (!this.failFast && this.client.status !== 'ready') this.onDown();
  };

  private readonly onReady = (): void => {
    this.failFast = true;
    this.startup = undefined;
    this.hung = false; // a fresh connection
    this.stalledTicks = 0;
    this.update('connect');
  };

  private readonly onDown = (): void => {
    if (!this.failFast) {
      // the first connect failed: refuse what waits for it, and everything from now on
      this.failFast = true;
      const s = this.startup;
      this.startup = undefined;
      s?.reject(new StoreUnavailableError(`${this.kind} store is unavailable: could not connect (${this.lastError ?? this.client.status})`));
    }
    this.update('close');
  };

  /** Recomputes readiness and tells the listeners when it changed. */
  private update(reason: ConnectionChange['reason']): void {
    const commands = !this.closed && this.client.status === 'ready' && !this.hung;
    const ready = commands && !this.subscriberDown;
    if (ready === this.readyState && commands === this.commandsState) return;
    this.readyState = ready;
    this.commandsState = commands;
    if (this.listeners.size === 0) return;
    const change: ConnectionChange = { state: ready ? 'ready' : 'down', reason, commands };
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch {
        // a throwing listener must not break the store or the other listeners
      }
    }
  }

  private readonly onReply = (): void => {
    this.inflight--;
    this.replies++;
    if (this.hung) this.recover();
  };

  private readonly onFail = (err: unknown): void => {
    this.inflight--;
    // An error reply proves the server answers; a connection error or timeout does not.
    if (err instanceof ReplyError) {
      this.replies++;
      if (this.hung) this.recover();
    }
  };

  private recover(): void {
    if (this.client.status !== 'ready') return;
    this.hung = false;
    this.stalledTicks = 0;
    this.update('reply');
  }

  private startWatchdog(): void {
    this.lastReplies = this.replies;
    this.stalledTicks = 0;
    this.watchdog = setInterval(this.onWatchdog, Math.max(1, Math.floor(this.hungAfterMs / 2)));
    this.watchdog.unref();
  }

  private readonly onWatchdog = (): void => {
    if (this.closed) return this.stopWatchdog();
    if (this.hung) {
      // ask until it answers (one PING at a time; it bypasses the refusal)
      if (!this.pingOut && this.client.status === 'ready') {
        this.pingOut = true;
        const done = (): void => {
          this.pingOut = false;
        };
        this.track(this.client.ping()).then(done, done);
      }
      return;
    }
    if (this.inflight <= 0 || this.client.status !== 'ready') {
      this.inflight = Math.max(0, this.inflight);
      return this.stopWatchdog();
    }
    if (this.replies !== this.lastReplies) {
      this.lastReplies = this.replies;
      this.stalledTicks = 0;
      return;
    }
    // two ticks (>= hungAfterMs) with commands in flight and not one reply: hung
    if (++this.stalledTicks >= 2) {
      this.hung = true;
      this.update('timeout');
    }
  };

  private stopWatchdog(): void {
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }
}
