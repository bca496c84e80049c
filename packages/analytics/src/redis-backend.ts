import type { Cluster, Redis } from 'ioredis';
import type { BucketWrite, LogEntry, TrendBackend } from './trend-backend';

/**
 * Trend buckets and the invalidation log on Redis through one ioredis client (a `Redis` or a
 * `Cluster`; every key carries the same `{…}` hash tag, so a pipeline never spans slots). Writes are
 * HINCRBY + PEXPIRE in one pipeline per flush; reads are HGETALL in one pipeline.
 */
export class RedisTrendBackend implements TrendBackend {
  readonly kind = 'redis' as const;
  constructor(private readonly client: Redis | Cluster) {}

  async increment(writes: readonly BucketWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const p = this.client.pipeline();
    for (const w of writes) {
      for (const [f, n] of w.fields) p.hincrby(w.key, f, n);
      p.pexpire(w.key, w.ttlMs);
    }
    const res = await p.exec();
    const failed = res?.find(([err]) => err);
    if (!res || failed) throw failed?.[0] ?? new Error('pipeline was not executed');
  }

  async read(keys: readonly string[]): Promise<Record<string, number>[]> {
    if (keys.length === 0) return [];
    const p = this.client.pipeline();
    for (const k of keys) p.hgetall(k);
    const res = (await p.exec()) ?? [];
    return res.map(([err, h]) => {
      if (err) throw err;
      const out: Record<string, number> = {};
      for (const [f, v] of Object.entries((h ?? {}) as Record<string, string>)) out[f] = Number(v);
      return out;
    });
  }

  async append(stream: string, entries: readonly Record<string, string>[], maxLen: number): Promise<void> {
    if (entries.length === 0) return;
    const p = this.client.pipeline();
    for (const fields of entries) p.xadd(stream, 'MAXLEN', '~', String(maxLen), '*', ...Object.entries(fields).flat());
    const res = await p.exec();
    const failed = res?.find(([err]) => err);
    if (!res || failed) throw failed?.[0] ?? new Error('pipeline was not executed');
  }

  async tail(stream: string, count: number): Promise<LogEntry[]> {
    const rows = (await this.client.xrevrange(stream, '+', '-', 'COUNT', count)) as [string, string[]][];
    return rows.map(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
      return { id, fields };
    });
  }

  /** INFO of one node (a Cluster: the first master). */
  async info(): Promise<Record<string, string>> {
    const c = this.client as Redis & Partial<Pick<Cluster, 'nodes'>>;
    const node = (c.isCluster ? (this.client as Cluster).nodes('master')[0] : c) as Redis;
    const text = await node.info();
    const out: Record<string, string> = {};
    for (const line of text.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
    }
    const dbsize = await node.dbsize();
    out.dbsize = String(dbsize);
    return out;
  }
}
