import { Command } from 'ioredis';
import type { ConnectionMonitor } from './connection-monitor';
import { keySlot } from './node-breakers';
import type { RedisClient } from './redis-store';
import type { GetSink } from './store';

/**
 * Adaptive GET → MGET coalescing (issue 13). When no read of this batcher is in flight, a GET is
 * written at once with `sendCommand` (no auto-pipelining tick deferral: a lone read pays one round
 * trip, nothing more). Reads that arrive while one is in flight wait and are sent together as one
 * `MGET` — one per hash slot on a Cluster, in parallel — when an in-flight read returns or on the
 * next tick (`process.nextTick`), whichever comes first. Each caller gets its own key's value (the
 * reply is matched by position); a failed batch rejects every caller of that batch (the guarded
 * store turns that into a miss), and each caller keeps its own deadline (the guard's `opTimeout`),
 * so a hung server costs every caller of a batch at most that.
 *
 * Order with the client's other commands: a read never overtakes a command issued before it on the
 * same client. ioredis' auto-pipelining holds commands back (until `setImmediate`, or until the
 * previous pipeline of the node returned); while any is held back, reads join that queue
 * (`getBuffer` / `mgetBuffer`) instead of being written directly, so a fire-and-forget `SET`
 * followed by a `GET` of the same key still reads the new value.
 */
export class ReadBatcher {
  private inFlight = 0;
  /**
   * A coalesced read (an MGET) answered in this tick: its callers' next reads come in a burst, so
   * the first of them waits for the tick like the others (one MGET for the burst, not a GET + an MGET).
   */
  private burst = false;
  /** Queued reads: keys and who gets each answer, index by index. */
  private keys: string[] = [];
  private sinks: GetSink[] = [];
  private scheduled = false;
  private readonly keyPrefix: string | undefined;

  constructor(
    private readonly client: RedisClient,
    private readonly cluster: boolean,
    private readonly monitor: ConnectionMonitor,
  ) {
    const opts = client.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } };
    this.keyPrefix = opts.keyPrefix ?? opts.redisOptions?.keyPrefix;
  }

  /** Reads that are queued or on the wire (tests, diagnostics). */
  get pending(): number {
    return this.keys.length + this.inFlight;
  }

  /** The value of `key` (`undefined` when missing). */
  get(key: string): Promise<Buffer | undefined> {
    return new Promise<Buffer | undefined>((resolve, reject) => {
      this.getInto(key, { answer: resolve, fail: reject });
    });
  }

  /**
   * `get` without a promise of its own: the answer goes to `sink` (exactly one of `answer` / `fail`,
   * once) — the guarded read's own deadline object is the sink, so a coalesced read allocates nothing more.
   */
  getInto(key: string, sink: GetSink): void {
    if (this.inFlight === 0 && this.keys.length === 0 && !this.burst) this.sendOne(key, sink);
    else this.enqueue(key, sink);
  }

  /** One `GET` on its own, its answer to `sink`. */
  private sendOne(key: string, sink: GetSink): void {
    (this.send('get', [key]) as Promise<Buffer | null>).then(
      (v) => sink.answer(v ?? undefined),
      (err: unknown) => sink.fail(err),
    );
  }

  private enqueue(key: string, sink: GetSink): void {
    this.keys.push(key);
    this.sinks.push(sink);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
  }

  /** Whether the client holds auto-pipelined commands not yet written (ioredis internals; absent = none). */
  private heldBack(): boolean {
    const held = (this.client as unknown as { _autoPipelines?: Map<string, unknown> })._autoPipelines;
    return held !== undefined && held.size > 0;
  }

  private send(name: 'get' | 'mget', keys: string[]): Promise<unknown> {
    this.inFlight++;
    let p: Promise<unknown>;
    if (this.heldBack()) {
      p = name === 'get' ? this.client.getBuffer(keys[0] as string) : this.client.mgetBuffer(keys);
    } else {
      const cmd = new Command(name, keys, { replyEncoding: null, keyPrefix: this.keyPrefix });
      void this.client.sendCommand(cmd);
      p = cmd.promise as Promise<unknown>;
    }
    p.then(this.done, this.done);
    return this.monitor.track(p);
  }

  private readonly done = (): void => {
    this.inFlight--;
    if (this.keys.length > 0) this.flush();
  };

  private readonly flush = (): void => {
    this.scheduled = false;
    this.burst = false;
    const keys = this.keys;
    const sinks = this.sinks;
    if (keys.length === 0) return;
    this.keys = [];
    this.sinks = [];
    if (!this.cluster) {
      this.sendBatch(keys, sinks);
      return;
    }
    const bySlot = new Map<number, { keys: string[]; sinks: GetSink[] }>();
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      const slot = keySlot(this.keyPrefix === undefined ? k : this.keyPrefix + k);
      const group = bySlot.get(slot);
      if (group === undefined) bySlot.set(slot, { keys: [k], sinks: [sinks[i] as GetSink] });
      else {
        group.keys.push(k);
        group.sinks.push(sinks[i] as GetSink);
      }
    }
    for (const g of bySlot.values()) this.sendBatch(g.keys, g.sinks);
  };

  private sendBatch(keys: string[], sinks: GetSink[]): void {
    if (keys.length === 1) {
      this.sendOne(keys[0] as string, sinks[0] as GetSink);
      return;
    }
    (this.send('mget', keys) as Promise<(Buffer | null)[]>).then(
      (values) => {
        if (!this.burst) {
          this.burst = true;
          if (!this.scheduled) {
            this.scheduled = true;
            process.nextTick(this.flush);
          }
        }
        for (let i = 0; i < sinks.length; i++) (sinks[i] as GetSink).answer(values[i] ?? undefined);
      },
      (err: unknown) => {
        for (const sink of sinks) sink.fail(err);
      },
    );
  }
}
