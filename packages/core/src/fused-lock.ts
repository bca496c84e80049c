import { createHash } from 'node:crypto';
import { Command } from 'ioredis';
import type { Redis } from 'ioredis';
import type { RedisClient } from './redis-store';
import type { LockClaim, ReadOrLockReply, StorePublish } from './store';

/**
 * The fused miss (issue 13): the Lua of `Store.readOrLock` / `writeAndRelease` / `extendLock` on Redis.
 * The lock part has the semantics and value layout of `@stratacache/lock` without fencing
 * (`SET lock token NX PX ttl`; release and extend only by the owner's token), so a lock taken here
 * and one taken by a `LockManager` on the same key exclude each other.
 *
 * READ_OR_LOCK: KEYS[1] entry, KEYS[2] lock, KEYS[3..] read as well (a single server only);
 * ARGV[1] token, ARGV[2] ttl ms, ARGV[3] '1' = take the lock even when the entry exists.
 * Returns { entry or nil, 1 = this caller holds the lock now | 0 = someone else does | 2 = not tried, values of KEYS[3..] }.
 */
export const READ_OR_LOCK_LUA = `
local v = redis.call('GET', KEYS[1])
local led = 2
if (not v) or ARGV[3] == '1' then
  if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then led = 1 else led = 0 end
end
local out = { v, led }
for i = 3, #KEYS do out[i] = redis.call('GET', KEYS[i]) end
return out
`;

/**
 * READ_OR_LOCK for a batch (a single server): ARGV[1] n; entry i: KEYS[2i-1] entry, KEYS[2i] lock,
 * ARGV[3i-1] token, ARGV[3i] ttl ms, ARGV[3i+1] force; KEYS[2n+1..] read as well. Returns
 * { entry 1, lock 1, …, entry n, lock n, values of KEYS[2n+1..] } (lock as in READ_OR_LOCK).
 */
export const READ_OR_LOCK_MANY_LUA = `
local n = tonumber(ARGV[1])
local out = {}
for i = 1, n do
  local v = redis.call('GET', KEYS[2 * i - 1])
  local led = 2
  if (not v) or ARGV[3 * i + 1] == '1' then
    if redis.call('SET', KEYS[2 * i], ARGV[3 * i - 1], 'NX', 'PX', ARGV[3 * i]) then led = 1 else led = 0 end
  end
  out[2 * i - 1] = v
  out[2 * i] = led
end
for j = 2 * n + 1, #KEYS do out[j] = redis.call('GET', KEYS[j]) end
return out
`;

/**
 * WRITE_AND_RELEASE: KEYS[1] entry, KEYS[2] lock; ARGV[1] token, ARGV[2] value, ARGV[3] px ('0' = no
 * write), ARGV[4] channel ('' = no publish), ARGV[5] message. Returns 1 when the lock was released.
 */
export const WRITE_AND_RELEASE_LUA = `
if ARGV[3] ~= '0' then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
local released = 0
if redis.call('GET', KEYS[2]) == ARGV[1] then released = redis.call('DEL', KEYS[2]) end
if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
return released
`;

/**
 * WRITE_AND_RELEASE for a batch (a single server): ARGV[1] n; write i: KEYS[2i-1] entry, KEYS[2i]
 * lock, ARGV[3i-1] token, ARGV[3i] value, ARGV[3i+1] px ('0' = no write); then (channel, message)
 * pairs to publish, after every write. Returns { released 1, …, released n } (1 = that lock was released).
 */
export const WRITE_AND_RELEASE_MANY_LUA = `
local n = tonumber(ARGV[1])
local out = {}
for i = 1, n do
  local b = 3 * i - 1
  if ARGV[b + 2] ~= '0' then redis.call('SET', KEYS[2 * i - 1], ARGV[b + 1], 'PX', ARGV[b + 2]) end
  local released = 0
  if redis.call('GET', KEYS[2 * i]) == ARGV[b] then released = redis.call('DEL', KEYS[2 * i]) end
  out[i] = released
end
local p = 3 * n + 2
while p < #ARGV do
  redis.call('PUBLISH', ARGV[p], ARGV[p + 1])
  p = p + 2
end
return out
`;

/** EXTEND (= `@stratacache/lock`'s): KEYS[1] lock; ARGV[1] token, ARGV[2] ttl ms. Returns 1 when extended. */
export const EXTEND_LOCK_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

const SHA = new Map<string, string>();
/** Fused reads written directly and not answered yet, per client. */
const inFlight = new WeakMap<object, number>();
/** Scripts already sent with SCRIPT LOAD on a single-server client's current connection (cleared when it closes). */
const loadedOn = new WeakMap<object, Set<string>>();

/**
 * Before an order-sensitive (auto-pipelined) EVALSHA on a single server: SCRIPT LOAD once per
 * connection. SCRIPT is never auto-pipelined, so it is written at once, ahead of the held-back
 * EVALSHA; without it, a server that does not know the script (new, restarted) answers NOSCRIPT and
 * the EVAL retry would run after commands issued later (a DEL of the key, a PUBLISH, QUIT).
 */
function preload(client: RedisClient, sha: string, lua: string): void {
  if (client.isCluster) return;
  let known = loadedOn.get(client);
  if (known === undefined) {
    const set = new Set<string>();
    known = set;
    loadedOn.set(client, set);
    client.on('close', () => set.clear());
  }
  if (known.has(sha)) return;
  const set = known;
  set.add(sha);
  (client as Redis).script('LOAD', lua).catch(() => set.delete(sha));
}

/** Whether the client holds auto-pipelined commands not yet written (ioredis internals; absent = none). */
function heldBack(client: RedisClient): boolean {
  const held = (client as unknown as { _autoPipelines?: Map<string, unknown> })._autoPipelines;
  return held !== undefined && held.size > 0;
}

type EvalFn = (script: string, ...args: (string | number | Buffer)[]) => Promise<unknown>;
interface Evals {
  eval: EvalFn;
  evalBuffer: EvalFn;
  evalsha: EvalFn;
  evalshaBuffer: EvalFn;
}

/**
 * How a script call is written: `auto` = auto-pipelined like any command (written with the client's
 * next batch, at setImmediate); `idle` = at once when no other such call is in flight and nothing is
 * held back by auto-pipelining, else auto-pipelined (a lone awaited read pays no tick, concurrent ones
 * share a socket write); `now` = at once unless something is held back (a batcher's call: it already
 * is a batch, and written at once the server runs it while this process works on).
 */
export type SendMode = 'auto' | 'idle' | 'now';

/**
 * EVALSHA of `lua`, EVAL once when the server does not know the script yet (NOSCRIPT: a new or
 * restarted server, or a Cluster node that never ran it).
 */
async function evalScript<T>(client: RedisClient, lua: string, args: (string | number | Buffer)[], buffers: boolean, mode: SendMode = 'auto'): Promise<T> {
  let sha = SHA.get(lua);
  if (sha === undefined) {
    sha = createHash('sha1').update(lua).digest('hex');
    SHA.set(lua, sha);
  }
  const c = client as unknown as Evals;
  const flying = inFlight.get(client) ?? 0;
  try {
    // (written at once, ahead of this call, when the connection has not loaded it: see preload)
    preload(client, sha, lua);
    // nothing may overtake commands held back by auto-pipelining: then this call joins them
    if (mode === 'auto' || (mode === 'idle' && flying > 0) || heldBack(client)) return (buffers ? await c.evalshaBuffer(sha, ...args) : await c.evalsha(sha, ...args)) as T;
    inFlight.set(client, flying + 1);
    // written at once (no tick), as core's read batcher does for a lone GET
    const o = client.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } };
    const cmd = new Command('evalsha', [sha, ...args], { replyEncoding: buffers ? null : 'utf8', keyPrefix: o.keyPrefix ?? o.redisOptions?.keyPrefix });
    void client.sendCommand(cmd);
    try {
      return (await cmd.promise) as T;
    } finally {
      inFlight.set(client, (inFlight.get(client) ?? 1) - 1);
    }
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return (buffers ? await c.evalBuffer(lua, ...args) : await c.eval(lua, ...args)) as T;
  }
}

/** `Store.readOrLock` on a Redis client: one EVALSHA. */
export async function redisReadOrLock(client: RedisClient, key: string, claim: LockClaim, force: boolean, also: readonly string[], mode: SendMode = 'idle'): Promise<ReadOrLockReply> {
  const r = await evalScript<(Buffer | number | null)[]>(client, READ_OR_LOCK_LUA, [2 + also.length, key, claim.key, ...also, claim.token, Math.round(claim.ttlMs), force ? '1' : '0'], true, mode);
  const out: (Buffer | undefined)[] = [];
  for (let i = 0; i < also.length; i++) out.push((r[i + 2] as Buffer | null) ?? undefined);
  return { value: (r[0] as Buffer | null) ?? undefined, lock: lockState(r[1]), also: out };
}

/** `Store.writeAndRelease` on a Redis client: one EVALSHA. */
export async function redisWriteAndRelease(client: RedisClient, key: string, value: Buffer | undefined, ttlMs: number, claim: LockClaim, publish: StorePublish | undefined, mode: SendMode = 'auto'): Promise<boolean> {
  const px = value === undefined ? 0 : Math.max(1, Math.round(ttlMs));
  const r = await evalScript<number>(client, WRITE_AND_RELEASE_LUA, [2, key, claim.key, claim.token, value ?? '', px, publish?.channel ?? '', publish?.message ?? ''], false, mode);
  return Number(r) === 1;
}

/** `Store.extendLock` on a Redis client: one EVALSHA. */
export async function redisExtendLock(client: RedisClient, claim: LockClaim): Promise<boolean> {
  return Number(await evalScript<number>(client, EXTEND_LOCK_LUA, [1, claim.key, claim.token, Math.round(claim.ttlMs)], false)) === 1;
}

/**
 * The key of the cross-process lock of entry `key` under `lockPrefix`, in `key`'s Cluster hash slot:
 * `{lockPrefix}:{key}` for a key without a hash tag (the key `@stratacache/lock`'s `LockManager`
 * uses for the resource `key` with that prefix), `{lockPrefix}:{tag}:key` when `key` has the hash tag
 * `{tag}`. `undefined` when no such key exists (an untagged key containing `}`).
 */
export function lockKeyFor(lockPrefix: string, key: string): string | undefined {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return `${lockPrefix}:{${key.slice(open + 1, close)}}:${key}`;
  }
  if (key.includes('}')) return undefined;
  return `${lockPrefix}:{${key}}`;
}

/** A batch of fused reads is written as soon as it holds this many (see `ReadOrLockBatcher`). */
export const READ_CHUNK = 16;

interface Job {
  key: string;
  claim: LockClaim;
  force: boolean;
  also: readonly string[];
  resolve: (r: ReadOrLockReply) => void;
  reject: (err: unknown) => void;
}

function lockState(v: unknown): ReadOrLockReply['lock'] {
  const l = Number(v);
  return l === 1 ? 'led' : l === 0 ? 'busy' : 'none';
}

/**
 * Coalesces concurrent fused reads on a single server, as core's read batcher does for `GET`s: a
 * read with none in flight is sent at once (one script call); reads that arrive meanwhile are sent
 * together as one READ_OR_LOCK_MANY call when an in-flight one returns or on the next tick. Each
 * caller gets its own entry, lock answer and `also` values; a failed batch rejects every caller.
 */
export class ReadOrLockBatcher {
  private inFlight = 0;
  private queue: Job[] = [];
  private scheduled = false;

  /**
   * @param beforeSend called right before a batch is written (the store sends its queued writes
   *   first: a read never overtakes a write queued before it).
   */
  constructor(
    private readonly client: RedisClient,
    private readonly beforeSend?: () => void,
  ) {}

  run(key: string, claim: LockClaim, force: boolean, also: readonly string[]): Promise<ReadOrLockReply> {
    if (this.inFlight === 0 && this.queue.length === 0) return this.track(redisReadOrLock(this.client, key, claim, force, also, 'now'));
    return new Promise<ReadOrLockReply>((resolve, reject) => {
      this.queue.push({ key, claim, force, also, resolve, reject });
      // a full chunk goes out at once: the server runs it while this process still works on the
      // callers that come next (instead of one batch the process then idles for)
      if (this.queue.length >= READ_CHUNK) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(this.flush);
      }
    });
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight++;
    p.then(this.done, this.done);
    return p;
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
    this.beforeSend?.();
    if (batch.length === 1) {
      const j = batch[0] as Job;
      this.track(redisReadOrLock(this.client, j.key, j.claim, j.force, j.also, 'now')).then(j.resolve, j.reject);
      return;
    }
    const keys: string[] = [];
    const argv: (string | number)[] = [batch.length];
    const extraAt = new Map<string, number>();
    const extra: string[] = [];
    for (const j of batch) {
      keys.push(j.key, j.claim.key);
      argv.push(j.claim.token, Math.round(j.claim.ttlMs), j.force ? '1' : '0');
      for (const a of j.also) {
        if (!extraAt.has(a)) {
          extraAt.set(a, extra.length);
          extra.push(a);
        }
      }
    }
    const n = batch.length;
    this.track(evalScript<(Buffer | number | null)[]>(this.client, READ_OR_LOCK_MANY_LUA, [keys.length + extra.length, ...keys, ...extra, ...argv], true, 'now')).then(
      (r) => {
        for (let i = 0; i < n; i++) {
          const j = batch[i] as Job;
          j.resolve({
            value: (r[2 * i] as Buffer | null) ?? undefined,
            lock: lockState(r[2 * i + 1]),
            also: j.also.map((a) => (r[2 * n + (extraAt.get(a) as number)] as Buffer | null) ?? undefined),
          });
        }
      },
      (err: unknown) => {
        for (const j of batch) j.reject(err);
      },
    );
  };
}

interface WriteJob {
  key: string;
  value: Buffer | undefined;
  ttlMs: number;
  claim: LockClaim;
  publish: StorePublish | undefined;
  resolve: (released: boolean) => void;
  reject: (err: unknown) => void;
}

/** Most writes in one WRITE_AND_RELEASE_MANY call (a bigger burst is sent as several). */
export const MAX_WRITE_BATCH = 256;

/**
 * Coalesces the fused miss's writes on a single server (issue 13): every `writeAndRelease` of one
 * round of promise reactions goes out as one WRITE_AND_RELEASE_MANY call (at most
 * {@link MAX_WRITE_BATCH} writes each), handed to the client in a microtask queued by the first
 * write (so before the writers' own continuations run, and before ioredis' auto-pipeline flush: it
 * still shares that socket write), and the bus messages of the batch that say the same thing (same
 * channel and `merge` head) become one PUBLISH. A lone write is the plain one-write script.
 *
 * Order: the store flushes this queue (synchronously, into the client's auto-pipeline) before it
 * sends any other command, so no later command of the store (a read, a delete, an invalidation
 * barrier, a publish) can overtake a write queued before it.
 */
export class WriteAndReleaseBatcher {
  private queue: WriteJob[] = [];
  private scheduled = false;
  /** The sent writes not answered yet (settled promises). */
  private readonly flying = new Set<Promise<void>>();

  constructor(private readonly client: RedisClient) {}

  /** Whether writes wait to be sent. */
  get queued(): boolean {
    return this.queue.length > 0;
  }

  run(key: string, value: Buffer | undefined, ttlMs: number, claim: LockClaim, publish: StorePublish | undefined): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ key, value, ttlMs, claim, publish, resolve, reject });
      if (this.queue.length >= MAX_WRITE_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        // a microtask, not a tick: the writers of one wave queue in the same round of promise
        // reactions (so the batch is whole), and the batch reaches ioredis' auto-pipeline before the
        // callers' continuations run — a command they issue next (on any connection) comes after it
        queueMicrotask(this.flush);
      }
    });
  }

  /**
   * Resolves once every write sent so far is answered (or failed), or after `ms`. For `close()`:
   * QUIT is not auto-pipelined, so it would be written before writes still held back (and lose them).
   */
  settled(ms: number): Promise<void> {
    if (this.flying.size === 0) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      Promise.all(this.flying).then(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  private track(p: Promise<unknown>): void {
    const s = p.then(
      () => undefined,
      () => undefined,
    );
    this.flying.add(s);
    void s.then(() => this.flying.delete(s));
  }

  /** Sends what is queued now (auto-pipelined: it goes out in the client's next socket write). */
  readonly flush = (): void => {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    if (batch.length === 1) {
      const j = batch[0] as WriteJob;
      const one = redisWriteAndRelease(this.client, j.key, j.value, j.ttlMs, j.claim, j.publish, 'now');
      this.track(one);
      one.then(j.resolve, j.reject);
      return;
    }
    const keys: string[] = [];
    const argv: (string | number | Buffer)[] = [batch.length];
    // the batch's bus messages: mergeable ones (same channel, head and separator) become one message
    const merged = new Map<string, { channel: string; head: string; sep: string; parts: string[] }>();
    const single: StorePublish[] = [];
    for (const j of batch) {
      keys.push(j.key, j.claim.key);
      argv.push(j.claim.token, j.value ?? '', j.value === undefined ? 0 : Math.max(1, Math.round(j.ttlMs)));
      const p = j.publish;
      if (p === undefined) continue;
      const m = p.merge;
      if (m === undefined || !p.message.startsWith(m.head)) {
        single.push(p);
        continue;
      }
      const id = `${p.channel}\u0000${m.head}\u0000${m.sep}`;
      const g = merged.get(id);
      const part = p.message.slice(m.head.length);
      if (g === undefined) merged.set(id, { channel: p.channel, head: m.head, sep: m.sep, parts: [part] });
      else g.parts.push(part);
    }
    for (const g of merged.values()) argv.push(g.channel, g.head + g.parts.join(g.sep));
    for (const p of single) argv.push(p.channel, p.message);
    const sent = evalScript<number[]>(this.client, WRITE_AND_RELEASE_MANY_LUA, [keys.length, ...keys, ...argv], false, 'now');
    this.track(sent);
    sent.then(
      (r) => {
        for (let i = 0; i < batch.length; i++) (batch[i] as WriteJob).resolve(Number(r[i]) === 1);
      },
      (err: unknown) => {
        for (const j of batch) j.reject(err);
      },
    );
  };
}
