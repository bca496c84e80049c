import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardRouter, createRedisConnection } from '../src/index';

// A real TLS redis-server (mutual TLS) with a throw-away CA made by openssl.
let dir: string;
let server: StandaloneRedis;
let tlsPort: number;
let ca: string;
let cert: string;
let key: string;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shard-tls-'));
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=stratacache test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.cnf', '-out', 'server.crt');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=client', '-keyout', 'client.key', '-out', 'client.csr');
  openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'client.crt');
  ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  cert = readFileSync(join(dir, 'client.crt'), 'utf8');
  key = readFileSync(join(dir, 'client.key'), 'utf8');
  tlsPort = await freePort();
  server = await startStandalone({
    args: [
      '--tls-port', String(tlsPort),
      '--tls-cert-file', join(dir, 'server.crt'),
      '--tls-key-file', join(dir, 'server.key'),
      '--tls-ca-cert-file', join(dir, 'ca.crt'),
      '--tls-auth-clients', 'yes',
    ],
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rediss:// with TLS options against a real TLS redis-server', () => {
  it('mutual TLS with ca, cert, key and servername', async () => {
    const client = createRedisConnection({ url: `rediss://127.0.0.1:${tlsPort}`, tls: { ca, cert, key, servername: 'localhost' } });
    try {
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('a ShardRouter tenant on a TLS shard; a shard with an untrusted certificate degrades without exceptions', async () => {
    const router = new ShardRouter({
      shards: {
        secure: { url: `rediss://127.0.0.1:${tlsPort}`, tls: { ca, cert, key, servername: 'localhost' } },
        untrusted: { url: `rediss://127.0.0.1:${tlsPort}`, tls: { cert, key } }, // no CA: verification fails
      },
      cache: { opTimeout: 3_000 },
    });
    try {
      const secure = router.forTenant('secure');
      expect(await secure.getOrSet('k', () => 'v')).toBe('v');
      expect(await secure.get('k')).toBe('v');
      const untrusted = router.forTenant('untrusted');
      expect(await untrusted.getOrSet('k', () => 'origin')).toBe('origin');
      expect(untrusted.stats().errors).toBeGreaterThan(0);
      const h = await router.health();
      expect(h.shards.secure!.status).toBe('ok');
      expect(h.shards.untrusted!.status).toBe('down');
    } finally {
      await router.close();
    }
  });

  it('rejectUnauthorized: false skips verification (testing only)', async () => {
    const client = createRedisConnection({ url: `rediss://127.0.0.1:${tlsPort}`, tls: { cert, key, rejectUnauthorized: false } });
    try {
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });
});
