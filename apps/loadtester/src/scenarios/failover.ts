// failover: the library in process (@stratacache/core CacheService over ioredis) against a
// Sentinel set (master + replica + 3 sentinels) or a 3-master Cluster with replicas, both started
// by the test harness. The master is SIGKILLed at --down-at; a probe writes every 25 ms and the
// outage window is the span from the kill to the last failed probe write. Reads are getOrSet on
// Zipf keys: a fail-safe cache keeps answering (from the factory) while the master is gone.
import { CacheService } from '@stratacache/core';
import { Redis, Cluster } from 'ioredis';
import { startCluster, startSentinel, waitFor } from '@stratacache/redis-harness';
import { sleep } from '../fault';
import { firstFailure, pct, type Scenario } from '../scenario';
import { prng, zipfSampler } from '../zipf';

const PROBE_EVERY_MS = 25;

export const failover: Scenario = {
  name: 'failover',
  summary: 'kills the Sentinel (or --topology cluster) master at --down-at; library in process',
  checks: 'no failed request; a new master took over; outage window ≤ --max-outage',
  defaults: { durationMs: 20_000, rate: 2_000 },
  async run(ctx) {
    const o = ctx.options;
    if (o.url) throw new Error('failover runs the library in process against a harness deployment; --url does not apply');
    const sentinel = o.topology === 'sentinel' ? await startSentinel() : undefined;
    const cluster = o.topology === 'cluster' ? await startCluster({ replicas: 1 }) : undefined;
    const client = sentinel
      ? new Redis({ sentinels: sentinel.sentinelAddrs, name: sentinel.name, lazyConnect: false, maxRetriesPerRequest: 1 })
      : new Cluster(cluster!.startupNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    const cache = new CacheService({ redis: client, prefix: `ltf${Math.random().toString(36).slice(2, 7)}`, defaultTtl: '10m' });
    const downAt = o.downAtMs ?? Math.round(o.durationMs / 4);
    let factoryCalls = 0;
    let probing = true;
    let killedAt: number | undefined;
    let lastFailedProbe: number | undefined;
    let probes = 0;
    let failedProbes = 0;
    const t0 = performance.now();
    try {
      await waitFor(() => cache.set('probe', 0).then((r) => r.ok), { timeoutMs: 15_000 });
      const probe = (async () => {
        while (probing) {
          const r = await cache.set('probe', probes++);
          if (!r.ok && killedAt !== undefined) {
            failedProbes++;
            lastFailedProbe = performance.now();
          }
          await sleep(PROBE_EVERY_MS);
        }
      })();
      const oldMaster = sentinel ? await sentinel.currentMaster() : undefined;
      let victimPort: number | undefined;
      const drill = (async () => {
        await sleep(downAt);
        const victim = sentinel ? sentinel.master : (await cluster!.masters())[0]!;
        victimPort = victim.port;
        killedAt = performance.now();
        await victim.kill();
        ctx.log(`failover: master :${victim.port} killed at ${Math.round(killedAt - t0)} ms`);
      })();
      const keys = Math.max(1, o.keys);
      const pick = zipfSampler(keys, o.skew, prng(o.seed));
      const [, result] = await Promise.all([
        drill,
        ctx.load(async () => {
          let called = false;
          await cache.getOrSet(`k${pick()}`, () => {
            called = true;
            factoryCalls++;
            return Promise.resolve({ v: 1 });
          });
          return { ok: true, source: called ? 'origin' : 'cache' };
        }),
      ]);
      probing = false;
      await probe;
      let newMaster: string | undefined;
      if (sentinel) {
        const m = await waitFor(async () => {
          const cur = await sentinel.currentMaster();
          return cur.port !== oldMaster!.port ? cur : undefined;
        }, { timeoutMs: 30_000 }).catch(() => undefined);
        newMaster = m ? `${m.host}:${m.port}` : undefined;
      } else {
        const ms = await waitFor(async () => {
          const list = await cluster!.masters();
          return list.length >= 3 && list.every((n) => n.port !== victimPort) ? list : undefined;
        }, { timeoutMs: 30_000 }).catch(() => undefined);
        newMaster = ms ? ms.map((n) => n.port).join(',') : undefined;
      }
      const outageMs = killedAt === undefined ? null : lastFailedProbe === undefined ? 0 : Math.round(lastFailedProbe - killedAt);
      const rec = ctx.rec;
      const failure = firstFailure([
        [killedAt !== undefined, 'the run ended before the master was killed (raise --duration or lower --down-at)'],
        [rec.errors === 0, `${rec.errors} request(s) failed during the failover`],
        [newMaster !== undefined, 'no replica was promoted within 30 s of the kill'],
        [outageMs !== null && outageMs <= o.maxOutageMs, `outage window ${outageMs} ms > --max-outage ${o.maxOutageMs} ms`],
      ]);
      return {
        target: `in-process @stratacache/core over a harness ${o.topology}`,
        originCalls: factoryCalls,
        reads: rec.requests,
        check: failure ? { passed: false, reason: failure } : { passed: true, reason: `0 of ${result.sent} requests failed; outage window ${outageMs} ms; new master ${newMaster} (hit rate ${pct(rec.hitRate())})` },
        details: { topology: o.topology, killedAtMs: killedAt === undefined ? null : Math.round(killedAt - t0), outageMs, probes, failedProbes, newMaster: newMaster ?? null },
      };
    } finally {
      probing = false;
      await cache.close().catch(() => undefined);
      client.disconnect();
      await sentinel?.close();
      await cluster?.close();
    }
  },
};
