import { Command } from 'ioredis';
import type { ConnectionMonitor } from './connection-monitor';
import { keySlot } from './node-breakers';
import type { RedisClient } from './redis-store';

interface Waiter {
  key: string;
  resolve: (value: Buffer | undefined) => void;
  reject: (err: unknown) => void;
}

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
  private queue: Waiter[] = [];
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
    return this.queue.length + this.inFlight;
  }

  /** The value of `key` (`undefined` when missing: a batched caller gets it without a mapping step of its own). */
  get(key: string): Promise<Buffer | undefined> {
    if (this.inFlight === 0 && this.queue.length === 0) return (this.send('get', [key]) as Promise<Buffer | null>).then(nullToUndefined);
    return new Promise<Buffer | undefined>((resolve, reject) => {
      this.queue.push({ key, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(this.flush);
      }
    });
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
    if (this.queue.length > 0) this.flush();
  };

  private readonly flush = (): void => {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    if (!this.cluster) {
      this.sendBatch(batch);
      return;
    }
    const bySlot = new Map<number, Waiter[]>();
    for (const w of batch) {
      const slot = keySlot(this.keyPrefix === undefined ? w.key : this.keyPrefix + w.key);
      const group = bySlot.get(slot);
      if (group === undefined) bySlot.set(slot, [w]);
      else group.push(w);
    }
    for (const group of bySlot.values()) this.sendBatch(group);
  };

  private sendBatch(batch: Waiter[]): void {
    if (batch.length === 1) {
      const w = batch[0] as Waiter;
      (this.send('get', [w.key]) as Promise<Buffer | null>).then((v) => w.resolve(v ?? undefined), w.reject);
      return;
    }
    (this.send(
      'mget',
      batch.map((w) => w.key),
    ) as Promise<(Buffer | null)[]>).then(
      (values) => {
        for (let i = 0; i < batch.length; i++) (batch[i] as Waiter).resolve(values[i] ?? undefined);
      },
      (err: unknown) => {
        for (const w of batch) w.reject(err);
      },
    );
  }
}

function nullToUndefined(v: Buffer | null): Buffer | undefined {
  return v ?? undefined;
}
