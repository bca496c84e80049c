// One process of the 4-process stampede: builds the named contender (L1 + Redis), waits for "go",
// fires `count` concurrent getOrSet on one missing key whose factory counts itself in Redis.
import { Redis } from 'ioredis';
import { bento, cacheManager, cacheable, stratacache, type Contender } from './contenders';

interface Job {
  lib: string;
  port: number;
  key: string;
  count: number;
  counterKey: string;
  factoryMs: number;
  prefix: string;
}

async function build(job: Job): Promise<Contender> {
  const url = `redis://127.0.0.1:${job.port}`;
  if (job.lib === 'stratacache') return stratacache(url, 'both', job.prefix);
  if (job.lib === 'BentoCache') return bento(job.port, 'both');
  if (job.lib === 'cache-manager 7') return cacheManager(url, 'both');
  return cacheable(url, 'both');
}

process.once('message', (raw) => {
  void (async () => {
    const job = raw as Job;
    const counter = new Redis({ host: '127.0.0.1', port: job.port });
    const c = await build(job);
    const factory = async (): Promise<unknown> => {
      await counter.incr(job.counterKey);
      await new Promise((r) => setTimeout(r, job.factoryMs));
      return { v: 1 };
    };
    process.send!({ ready: true });
    process.once('message', () => {
      void Promise.all(Array.from({ length: job.count }, () => c.getOrSet(job.key, factory))).then(
        async () => {
          await c.close().catch(() => undefined);
          counter.disconnect();
          process.send!({ done: true }, () => process.exit(0));
        },
        (err: unknown) => {
          process.send!({ error: String(err) }, () => process.exit(1));
        },
      );
    });
  })();
});
setTimeout(() => process.exit(2), 60_000).unref(); // bounded: never outlives the bench
