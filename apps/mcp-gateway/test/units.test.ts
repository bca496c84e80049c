import { describe, expect, it } from 'vitest';
import { computeSignature, signWebhook, verifySignature } from '../src/webhooks/signature';
import { describeRedisUrl, describeStores, loadConfig } from '../src/config';
import { ConfigError } from '../src/errors';
import { credentialScope } from '../src/credentials';
import { renderTemplate, templateVars } from '../src/manifest/template';
import { parseLatency } from '../src/demo-upstream';
import { seedCrm } from '../src/demo-upstream/data';
import { isAdminRequest } from '../src/mcp-server';
import { Writable } from 'node:stream';
import { createLogger } from '../src/gateway';

const SECRET = 'unit-secret-unit-secret';

describe('webhook signature', () => {
  const body = '{"event":"job.updated"}';
  it('accepts a fresh, correct signature', () => {
    expect(verifySignature(SECRET, signWebhook(SECRET, body), body)).toMatchObject({ ok: true });
  });
  it('refuses missing, malformed, tampered, old and future signatures', () => {
    const now = Math.floor(Date.now() / 1000);
    expect(verifySignature(SECRET, undefined, body)).toEqual({ ok: false, reason: 'missing' });
    expect(verifySignature(SECRET, 'garbage', body)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifySignature(SECRET, `t=${now},v1=zz`, body)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifySignature(SECRET, signWebhook(SECRET, body), `${body} `)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature(SECRET, signWebhook('other-secret-other', body), body)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature(SECRET, signWebhook(SECRET, body, now - 301), body)).toEqual({ ok: false, reason: 'expired' });
    expect(verifySignature(SECRET, signWebhook(SECRET, body, now + 301), body)).toEqual({ ok: false, reason: 'expired' });
    expect(verifySignature(SECRET, signWebhook(SECRET, body, now - 299), body)).toMatchObject({ ok: true });
  });
  it('accepts any of several v1 values (secret rotation)', () => {
    const t = Math.floor(Date.now() / 1000);
    const header = `t=${t},v1=${'0'.repeat(64)},v1=${computeSignature(SECRET, t, body)}`;
    expect(verifySignature(SECRET, header, body)).toMatchObject({ ok: true });
  });
});

describe('config', () => {
  it('applies defaults', () => {
    const c = loadConfig({ UPSTREAM_URL: 'http://127.0.0.1:9' });
    expect(c.port).toBe(3000);
    expect(c.redisUrl).toBeUndefined();
    expect(c.credentialHeader).toBe('x-api-key');
    expect(c.tenantHeader).toBe('x-instance');
    expect(c.keySecretGenerated).toBe(true);
    expect(c.manifestPath).toMatch(/crm\.yaml$/);
  });
  it('names every bad variable', () => {
    try {
      loadConfig({ PORT: 'abc', REDIS_URL: 'http://x', ADMIN_TOKEN: 'short', UPSTREAM_URL: 'nope', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const vars = (err as ConfigError).issues.map((i) => i.variable);
      expect(vars).toEqual(expect.arrayContaining(['PORT', 'REDIS_URL', 'ADMIN_TOKEN', 'UPSTREAM_URL', 'LOG_LEVEL']));
      expect((err as ConfigError).code).toBe('E_GATEWAY_CONFIG');
      expect((err as Error).message).not.toContain('short'); // values are not echoed
    }
  });
});

describe('helpers', () => {
  it('credential scope is a truncated HMAC, stable per secret, never the key', () => {
    const a = credentialScope('s1-secret-secret', 'demo-key-alice');
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(credentialScope('s1-secret-secret', 'demo-key-alice')).toBe(a);
    expect(credentialScope('s2-secret-secret', 'demo-key-alice')).not.toBe(a);
    expect(credentialScope('s1-secret-secret', undefined)).toBe('anon');
  });
  it('templates', () => {
    expect(templateVars('job:{id}:{result.job_id}:{id}')).toEqual(['id', 'result.job_id']);
    expect(renderTemplate('job:{id}', { id: 'j/1' })).toBe('job:j/1');
    expect(renderTemplate('/jobs/{id}', { id: 'j/1' }, encodeURIComponent)).toBe('/jobs/j%2F1');
    expect(renderTemplate('job:{result.job_id}', { result: { job_id: 'job-3' } })).toBe('job:job-3');
    expect(renderTemplate('job:{result.job_id}', { result: {} })).toBeUndefined();
  });
  it('admin token check', () => {
    expect(isAdminRequest({ authorization: 'Bearer tok-tok-tok-tok-1' }, 'tok-tok-tok-tok-1')).toBe(true);
    expect(isAdminRequest({ 'x-admin-token': 'tok-tok-tok-tok-1' }, 'tok-tok-tok-tok-1')).toBe(true);
    expect(isAdminRequest({ authorization: 'Bearer tok' }, 'tok-tok-tok-tok-1')).toBe(false);
    expect(isAdminRequest({ authorization: 'Bearer tok-tok-tok-tok-1' }, undefined)).toBe(false);
  });
  it('demo data is deterministic and latency parses', () => {
    expect(seedCrm()).toEqual(seedCrm());
    expect(seedCrm().jobs).toHaveLength(40);
    expect(parseLatency('0')).toEqual({ minMs: 0, maxMs: 0 });
    expect(parseLatency('300-800')).toEqual({ minMs: 300, maxMs: 800 });
    expect(parseLatency(undefined)).toEqual({ minMs: 300, maxMs: 800 });
    expect(() => parseLatency('fast')).toThrow(/DEMO_LATENCY/);
  });
});

describe('logger', () => {
  it('redacts credentials and tokens wherever headers are logged', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        lines.push(c.toString());
        cb();
      },
    });
    const log = createLogger({ credentialHeader: 'x-my-key', logLevel: 'info' }, sink);
    log.info({ req: { headers: { 'x-api-key': 'k-1-secret', authorization: 'Bearer t-2-secret', 'x-my-key': 'k-3-secret', host: 'h' } } }, 'r');
    log.info({ headers: { 'x-admin-token': 'k-4-secret', 'x-signature': 'k-5-secret' } }, 'r');
    log.info({ credential: 'k-6-secret' }, 'r');
    const all = lines.join('');
    expect(all).not.toMatch(/k-\d-secret|t-2-secret/);
    expect(all).toContain('[redacted]');
    expect(all).toContain('"host":"h"');
  });
});

describe('config defaults of the hardening', () => {
  it('soft timeout 1 s, sessions idle 300 s / max 1000, drain 5 s, log format auto', () => {
    const c = loadConfig({ UPSTREAM_URL: 'http://127.0.0.1:9' });
    expect(c).toMatchObject({ softTimeoutMs: 1000, sessionIdleSec: 300, maxSessions: 1000, drainTimeoutMs: 5000, logFormat: 'auto' });
  });
});

describe('banner names the store', () => {
  it('host:port/db, never a user name or password', () => {
    expect(describeRedisUrl('redis://:s3cret-pw@10.0.0.5:6380/2')).toBe('10.0.0.5:6380/2');
    expect(describeRedisUrl('rediss://user:pw@cache.example.com')).toBe('cache.example.com:6379/0 TLS');
    const c = loadConfig({ UPSTREAM_URL: 'http://127.0.0.1:9', SHARDS: 'eu=redis://:pw@a:6379/1,us=memory' });
    const line = describeStores(c);
    expect(line).toBe('shards eu*=Redis a:6379/1, us=embedded');
    expect(line).not.toContain('pw');
  });
});

describe('manifest durations use the one workspace parser', () => {
  it("accepts '.5s', '1.5m', ms numbers and numeric strings; refuses the rest with a message", async () => {
    const { durationSchema } = await import('../src/manifest/schema');
    expect(durationSchema.parse('.5s')).toBe(500);
    expect(durationSchema.parse('1.5m')).toBe(90_000);
    expect(durationSchema.parse(250)).toBe(250);
    expect(durationSchema.parse('1500')).toBe(1500);
    for (const bad of ['-1s', 'soon', -5]) expect(durationSchema.safeParse(bad).success).toBe(false);
    expect(durationSchema.safeParse('soon').error?.issues[0]?.message).toMatch(/invalid duration "soon"/);
  });
});
