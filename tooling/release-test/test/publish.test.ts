/**
 * The publish test (issue 18 / R1): the real release flow into a local npm registry, then the
 * published packages installed with plain npm in a project outside the workspace.
 *
 * 1. Verdaccio (devDependency of this package) on a free 127.0.0.1 port, storage in a temp dir,
 *    @stratacache/* local only (never proxied), every other package proxied from the npm registry.
 * 2. A copy of the workspace (tracked + untracked-not-ignored files) in a temp dir, installed from
 *    the pnpm store; there `pnpm version-packages` then `pnpm release` — the commands a maintainer
 *    runs — with the registry, npmrc and HOME all pointing at the temp registry.
 * 3. Every published tarball: only package.json, README.md, CHANGELOG.md, LICENSE and dist/.
 * 4. `npm install @stratacache/core` alone: no tiered, shard, fastify or gateway.
 * 5. `npm install @stratacache/tiered`: an ESM script and a CJS script (embedded store, then a real
 *    redis-server from the harness), and `tsc --noEmit` with module/moduleResolution nodenext.
 *
 * Nothing is published anywhere but the loopback registry: the test refuses to run otherwise.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = path.resolve(here, '..');
const root = path.resolve(pkgDir, '../..');
const requireHere = createRequire(import.meta.url);
const verdaccioPkg = requireHere.resolve('verdaccio/package.json');
const verdaccioBin = path.join(path.dirname(verdaccioPkg), (requireHere(verdaccioPkg) as { bin: Record<string, string> }).bin.verdaccio ?? 'bin/verdaccio');
const tscBin = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-publish-'));
const home = path.join(tmp, 'home');
const npmrc = path.join(home, '.npmrc');
// npm's cache is this run's own: nothing a previous run fetched (packuments of a registry that may
// have had the same port, tarballs of the same versions built from other code) can answer for it.
const npmCache = path.join(tmp, 'npm-cache');
let registry = '';
// the pnpm store the workspace was installed from (HOME is replaced below, so name it explicitly)
let storeDir = '';
let verdaccio: ChildProcess | undefined;
let verdaccioLog = '';
let redis: StandaloneRedis | undefined;
let published: { name: string; version: string }[] = [];

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
    throw new Error(`publish test: refusing to run against a non-loopback registry ${url}`);
  }
}

/** Environment for every npm/pnpm command: temp HOME and npmrc, registry forced to Verdaccio. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  assertLoopback(registry);
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|NPM_|PNPM_|pnpm_|TURBO_)/.test(k)) continue; // nothing inherited from the outer pnpm/turbo run
    e[k] = v;
  }
  return {
    ...e,
    HOME: home,
    NPM_CONFIG_USERCONFIG: npmrc,
    npm_config_userconfig: npmrc,
    npm_config_registry: registry,
    npm_config_cache: npmCache,
    ...(storeDir ? { npm_config_store_dir: storeDir } : {}),
    npm_config_git_checks: 'false',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    TURBO_TELEMETRY_DISABLED: '1',
    DO_NOT_TRACK: '1',
    ...extra,
  };
}

async function sh(cmd: string, args: string[], cwd: string, timeout = 240_000, extra: Record<string, string> = {}) {
  try {
    return await run(cmd, args, { cwd, env: env(extra), timeout, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}\n${registryLogTail()}`, { cause: err });
  }
}

/** The last lines Verdaccio logged (every request), for the message of a failed step. */
function registryLogTail(lines = 80): string {
  if (!verdaccioLog) return '';
  return `--- Verdaccio, last ${lines} log lines ---\n${verdaccioLog.split('\n').slice(-lines).join('\n')}`;
}

/** Whether the registry serves `name` at `version` (a full packument GET, as npm install makes). */
async function onRegistry(name: string, version: string): Promise<boolean> {
  const res = await fetch(`${registry}${name.replace('/', '%2f')}`);
  if (res.status !== 200) return false;
  const meta = (await res.json()) as { versions?: Record<string, unknown> };
  return Object.hasOwn(meta.versions ?? {}, version);
}

async function startVerdaccio(): Promise<void> {
  const port = await freePort();
  registry = `http://127.0.0.1:${port}/`;
  assertLoopback(registry);
  const dir = path.join(tmp, 'verdaccio');
  fs.mkdirSync(path.join(dir, 'storage'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'config.yaml'),
    [
      `storage: ${path.join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${path.join(dir, 'htpasswd')}`,
      '    max_users: 10',
      'uplinks:',
      '  npmjs:',
      '    url: https://registry.npmjs.org/',
      '    timeout: 60s',
      'packages:',
      "  '@stratacache/*':",
      '    access: $all',
      '    publish: $authenticated',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      '    proxy: npmjs',
      // every request is logged (kept in memory, printed only when a step fails)
      'log: { type: stdout, format: pretty, level: http }',
      'publish:',
      '  allow_offline: true',
      '',
    ].join('\n'),
  );
  verdaccio = spawn(process.execPath, [verdaccioBin, '--config', path.join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: home },
  });
  verdaccio.stdout?.on('data', (d: Buffer) => (verdaccioLog += d.toString()));
  verdaccio.stderr?.on('data', (d: Buffer) => (verdaccioLog += d.toString()));
  // Generous: in CI this starts beside the build's typecheck, lint and the other suites (2 cores,
  // load average above 15 at that moment), and a cold Verdaccio loads a few thousand modules.
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      const res = await fetch(`${registry}-/ping`);
      if (res.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline || verdaccio.exitCode !== null) throw new Error(`Verdaccio did not start (exit code ${verdaccio.exitCode}):\n${verdaccioLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // a user for publishing, and its token in the temp npmrc
  const res = await fetch(`${registry}-/user/org.couchdb.user:release-test`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'release-test', password: 'release-test-password', type: 'user', roles: [] }),
  });
  const body = (await res.json()) as { token?: string };
  if (!body.token) throw new Error(`Verdaccio user creation failed: ${res.status} ${JSON.stringify(body)}`);
  const hostPath = registry.replace(/^http:/, '');
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(npmrc, `registry=${registry}\n@stratacache:registry=${registry}\n${hostPath}:_authToken=${body.token}\n`);
}

/** Copies the workspace as a developer has it (tracked + new files, nothing ignored). */
async function copyWorkspace(): Promise<string> {
  const dest = path.join(tmp, 'workspace');
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  for (const rel of stdout.split('\0')) {
    if (!rel) continue;
    const from = path.join(root, rel);
    if (!fs.existsSync(from)) continue; // deleted but not yet staged
    const to = path.join(dest, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
  }
  // a repository of its own, as a maintainer's clone is (changeset publish tags the releases)
  const git = (...args: string[]) => run('git', ['-c', 'user.email=release-test@localhost', '-c', 'user.name=release-test', '-c', 'commit.gpgsign=false', ...args], { cwd: dest });
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'workspace copy');
  return dest;
}

function writeProject(name: string, deps: Record<string, string>): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, dependencies: deps }, null, 2));
  fs.writeFileSync(path.join(dir, '.npmrc'), `registry=${registry}\n`);
  return dir;
}

function installedScopeDirs(dir: string): string[] {
  const scope = path.join(dir, 'node_modules', '@stratacache');
  return fs.existsSync(scope) ? fs.readdirSync(scope).sort() : [];
}

beforeAll(async () => {
  const t0 = Date.now();
  storeDir = (await run('pnpm', ['store', 'path'], { cwd: root })).stdout.trim();
  await startVerdaccio();
  const ws = await copyWorkspace();
  // from the pnpm store the developer/CI already filled: no registry traffic for the workspace
  await sh('pnpm', ['install', '--frozen-lockfile', '--prefer-offline', '--reporter=silent'], ws, 240_000, {
    npm_config_registry: 'https://registry.npmjs.org/',
  });
  await sh('pnpm', ['version-packages'], ws, 120_000, { npm_config_registry: 'https://registry.npmjs.org/' });
  // `pnpm release` = build the publishable packages, then `changeset publish` (pnpm publish each)
  const rel = await sh('pnpm', ['release'], ws, 300_000);
  const pkgs = fs.readdirSync(path.join(ws, 'packages'))
    .map((d) => JSON.parse(fs.readFileSync(path.join(ws, 'packages', d, 'package.json'), 'utf8')) as { name: string; version: string; private?: boolean })
    .filter((p) => !p.private);
  published = pkgs.map((p) => ({ name: p.name, version: p.version }));
  // Every package `changeset publish` reported is on the registry before any check runs; if one is
  // not, the failure says what the release printed and what the registry saw.
  const missing: string[] = [];
  for (const p of published) if (!(await onRegistry(p.name, p.version))) missing.push(`${p.name}@${p.version}`);
  if (missing.length > 0) {
    throw new Error(`not on the registry after \`pnpm release\`: ${missing.join(', ')}\n--- pnpm release ---\n${rel.stdout}\n${rel.stderr}\n${registryLogTail(400)}`);
  }
  console.log(`[publish-test] verdaccio ${registry}, released ${published.length} packages in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (!/published|success/i.test(rel.stdout + rel.stderr)) console.log(rel.stdout, rel.stderr);
}, 600_000);

afterAll(async () => {
  verdaccio?.kill('SIGTERM');
  await redis?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('release into a local registry', () => {
  it('published every publishable package at its new version, private ones not at all', async () => {
    expect(published.length).toBeGreaterThanOrEqual(9);
    for (const p of published) {
      expect(p.version, `${p.name} was versioned by the changeset`).not.toBe('0.0.0');
      const res = await fetch(`${registry}${p.name.replace('/', '%2f')}`);
      expect(res.status, `${p.name} on the registry`).toBe(200);
      const meta = (await res.json()) as { versions: Record<string, { dependencies?: Record<string, string> }> };
      expect(Object.keys(meta.versions), p.name).toContain(p.version);
      const deps = JSON.stringify(meta.versions[p.version]?.dependencies ?? {});
      expect(deps, `${p.name}: no workspace: ranges in the published manifest`).not.toContain('workspace:');
    }
    for (const priv of ['@stratacache/mcp-gateway', '@stratacache/redis-harness', '@stratacache/release-test', '@stratacache/tsconfig']) {
      const res = await fetch(`${registry}${priv.replace('/', '%2f')}`);
      expect(res.status, `${priv} is private and must not be published`).toBe(404);
    }
  });

  it('every tarball holds only package.json, README.md, CHANGELOG.md, LICENSE and dist/', async () => {
    const dir = path.join(tmp, 'tarballs');
    fs.mkdirSync(dir, { recursive: true });
    await sh('npm', ['pack', '--registry', registry, '--pack-destination', dir, ...published.map((p) => `${p.name}@${p.version}`)], dir);
    for (const tgz of fs.readdirSync(dir).filter((f) => f.endsWith('.tgz'))) {
      const { stdout } = await run('tar', ['-tzf', path.join(dir, tgz)]);
      const files = stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
      for (const f of ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts'])
        expect(files, `${tgz} contains ${f}`).toContain(f);
      const stray = files.filter((f) => !/^(package\.json|README\.md|CHANGELOG\.md|LICENSE|dist\/.+)$/.test(f));
      expect(stray, `${tgz}: files outside dist/`).toEqual([]);
      const { stdout: changelog } = await run('tar', ['-xzOf', path.join(dir, tgz), 'package/CHANGELOG.md']);
      expect(changelog, `${tgz}: CHANGELOG has the released version`).toMatch(/^## \d+\.\d+\.\d+/m);
    }
  });

  it('installing @stratacache/core alone pulls in no tiered, shard, fastify or gateway', async () => {
    const dir = writeProject('core-only', {});
    await sh('npm', ['install', '--registry', registry, '@stratacache/core'], dir);
    expect(installedScopeDirs(dir)).toEqual(['breaker', 'core']);
    expect(fs.existsSync(path.join(dir, 'node_modules', 'ioredis')), 'ioredis peer installed by npm').toBe(true);
    const { stdout } = await sh('node', ['-e', "import('@stratacache/core').then(async (m) => { const c = new m.CacheService(); await c.set('k', 1); console.log(await c.get('k')); await c.close(); })"], dir);
    expect(stdout.trim()).toBe('1');
  });

  describe('@stratacache/tiered installed with plain npm outside the workspace', () => {
    let dir = '';
    beforeAll(async () => {
      dir = writeProject('tiered-app', {});
      await sh('npm', ['install', '--registry', registry, '@stratacache/tiered', '@stratacache/core', '@types/node@20'], dir);
      fs.writeFileSync(
        path.join(dir, 'app.mjs'),
        `import { CacheService } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
const l2 = new CacheService(process.env.REDIS_URL ? { redis: process.env.REDIS_URL, prefix: 'esm' } : {});
const cache = new TieredCache(l2);
await cache.ready();
let calls = 0;
const a = await cache.getOrSet('user:1', async () => { calls++; return { id: 1, name: 'Ada' }; }, { ttl: '1m' });
const b = await cache.getOrSet('user:1', async () => { calls++; return { id: 1, name: 'Other' }; }, { ttl: '1m' });
await cache.close();
await l2.close();
console.log(JSON.stringify({ format: 'esm', a, b, calls }));
`,
      );
      fs.writeFileSync(
        path.join(dir, 'app.cjs'),
        `const { CacheService } = require('@stratacache/core');
const { TieredCache } = require('@stratacache/tiered');
(async () => {
  const l2 = new CacheService(process.env.REDIS_URL ? { redis: process.env.REDIS_URL, prefix: 'cjs' } : {});
  const cache = new TieredCache(l2);
  await cache.ready();
  let calls = 0;
  const a = await cache.getOrSet('user:1', async () => { calls++; return { id: 1, name: 'Ada' }; }, { ttl: '1m' });
  const b = await cache.getOrSet('user:1', async () => { calls++; return { id: 1, name: 'Other' }; }, { ttl: '1m' });
  await cache.close();
  await l2.close();
  console.log(JSON.stringify({ format: 'cjs', a, b, calls }));
})().catch((e) => { console.error(e); process.exit(1); });
`,
      );
      fs.writeFileSync(
        path.join(dir, 'check.ts'),
        `import { CacheService } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
const l2: CacheService = new CacheService();
const cache = new TieredCache(l2);
const user: Promise<{ id: number }> = cache.getOrSet('user:1', async () => ({ id: 1 }), { ttl: '1m' });
// @ts-expect-error the factory's type flows to the result
const wrong: Promise<{ id: string }> = cache.getOrSet('user:2', async () => ({ id: 2 }));
export { user, wrong };
`,
      );
      fs.writeFileSync(
        path.join(dir, 'check.cts'),
        `import { CacheService } from '@stratacache/core';
import { TieredCache } from '@stratacache/tiered';
export const cache = new TieredCache(new CacheService());
`,
      );
      fs.writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: false }, files: ['check.ts', 'check.cts'] }, null, 2),
      );
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')), type: 'module' }, null, 2));
      fs.renameSync(path.join(dir, 'app.mjs'), path.join(dir, 'app.js'));
    }, 300_000);

    it('an ESM and a CJS script run on the embedded store', async () => {
      for (const file of ['app.js', 'app.cjs']) {
        const { stdout } = await sh('node', [file], dir);
        const out = JSON.parse(stdout.trim()) as { a: unknown; b: unknown; calls: number };
        expect(out.a, file).toEqual({ id: 1, name: 'Ada' });
        expect(out.b, file).toEqual({ id: 1, name: 'Ada' });
        expect(out.calls, file).toBe(1);
      }
    });

    it('an ESM and a CJS script run on a real redis-server', async () => {
      redis = await startStandalone();
      for (const file of ['app.js', 'app.cjs']) {
        const { stdout } = await sh('node', [file], dir, 60_000, { REDIS_URL: redis.url });
        const out = JSON.parse(stdout.trim()) as { a: unknown; b: unknown; calls: number };
        expect(out.b, file).toEqual({ id: 1, name: 'Ada' });
        expect(out.calls, file).toBe(1);
      }
    });

    it('tsc --noEmit with module/moduleResolution nodenext (ESM and CJS files) type-checks', async () => {
      await sh(process.execPath, [tscBin, '-p', 'tsconfig.json'], dir);
    });
  });
});
