import type { CircuitBreaker } from '@stratacache/breaker';
import type { Store } from './store';

/** How often an OPEN breaker checks whether a ready-looking store answers a PING (ms). */
export const PROBE_INTERVAL_MS = 250;

interface Link {
  refs: number;
  stop: () => void;
}

const links = new WeakMap<Store, Map<CircuitBreaker, Link>>();

/**
 * Makes `breaker` follow `store`'s connection (stores with `onConnectionChange`, e.g. `RedisStore`):
 * - the connection goes down (closed, failed to connect, hung) → the breaker opens at once
 *   (`trip('connection-lost')`), so readers stop waiting on it without N timeouts first; the
 *   pub/sub connection alone being down does not count (`change.commands`): on a Cluster it is one
 *   node's connection, and commands to the other masters still work;
 * - the connection is ready again, or (while OPEN and the store looks connected, checked every
 *   250 ms) a PING answers within `timeoutMs` → the half-open probe runs at once (`probeNow()` +
 *   one PING as the probe) instead of after `resetTimeout`, which stays the upper bound. The
 *   check PING runs outside the breaker, so a long outage does not flap OPEN ↔ HALF_OPEN.
 * Shared per (store, breaker) pair: many CacheServices on one shard connection add one listener and
 * one probe loop. Returns a release function; the last release stops following.
 */
export function followConnection(store: Store, breaker: CircuitBreaker, timeoutMs: number): () => void {
  if (typeof store.onConnectionChange !== 'function') return () => undefined;
  let byBreaker = links.get(store);
  if (byBreaker === undefined) {
    byBreaker = new Map();
    links.set(store, byBreaker);
  }
  let link = byBreaker.get(breaker);
  if (link === undefined) {
    link = { refs: 0, stop: start(store, breaker, timeoutMs) };
    byBreaker.set(breaker, link);
  }
  link.refs++;
  let released = false;
  const map = byBreaker;
  const l = link;
  return () => {
    if (released) return;
    released = true;
    if (--l.refs > 0) return;
    l.stop();
    if (map.get(breaker) === l) map.delete(breaker);
  };
}

function start(store: Store, breaker: CircuitBreaker, timeoutMs: number): () => void {
  let probing = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  /** A PING bounded by `timeoutMs`. */
  const ping = (): Promise<unknown> => {
    let t: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`PING did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([store.ping(), limit]).finally(() => clearTimeout(t));
  };

  /** One PING as the half-open probe (at most one at a time). */
  const probe = (): void => {
    if (stopped || probing || breaker.state === 'CLOSED') return;
    breaker.probeNow();
    if (!breaker.tryAcquire()) return; // a reader holds the probe slot: it decides
    probing = true;
    ping()
      .then(
        () => breaker.onSuccess(),
        (err: unknown) => breaker.onFailure(err),
      )
      .finally(() => {
        probing = false;
      });
  };

  /** While OPEN: a PING outside the breaker first, so a long outage does not flap OPEN ↔ HALF_OPEN. */
  const check = (): void => {
    if (stopped || probing) return;
    probing = true;
    ping().then(
      () => {
        probing = false;
        probe();
      },
      () => {
        probing = false;
      },
    );
  };

  const poll = (): void => {
    if (timer !== undefined || stopped) return;
    timer = setInterval(() => {
      if (breaker.state === 'CLOSED') {
        clearInterval(timer);
        timer = undefined;
        return;
      }
      // A store that looks connected may be back (a Cluster after a failover emits no `ready`).
      if (breaker.state === 'OPEN' && store.isReady()) check();
    }, PROBE_INTERVAL_MS);
    timer.unref();
  };

  const offStore = (store.onConnectionChange as NonNullable<Store['onConnectionChange']>).call(store, (change) => {
    if (change.commands ?? change.state === 'ready') probe();
    else breaker.trip('connection-lost');
  });
  const offOpen = breaker.on('open', poll);
  if (breaker.state !== 'CLOSED') poll();
  // The store may have failed before we listened (e.g. a refused first connect).
  if (!store.isReady() && breaker.state === 'CLOSED' && hasFailed(store)) breaker.trip('connection-lost');

  return () => {
    stopped = true;
    offStore();
    offOpen();
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };
}

/** A store that reports itself down after trying (not one that is still making its first connection). */
function hasFailed(store: Store): boolean {
  const status = (store as { client?: { status?: unknown } }).client?.status;
  return status === 'reconnecting' || status === 'close' || status === 'end';
}
