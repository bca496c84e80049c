import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  findRedisBinaries,
  isPortFree,
  reapOrphans,
  REDIS_NOT_FOUND_MESSAGE,
  requireRedisBinaries,
  startStandalone,
  stopAll,
  waitFor,
} from '../src/index';
import { currentRoot } from '../src/run-root';

const here = fileURLToPath(new URL('.', import.meta.url));
// Run the fixture as a direct child (node + tsx loader), so signals hit the owner itself.
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Report {
  pid: number;
  port: number;
  dir: string;
  root: string;
}

function runOwner(mode: 'exit' | 'wait' | 'throw'): Promise<{ child: ChildProcess; report: Report }> {
  const child = spawn(process.execPath, ['--import', tsxLoader, join(here, 'fixtures/owner.ts'), mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve({ child, report: JSON.parse(line) as Report });
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      if (!out.includes('\n')) reject(new Error(`owner fixture exited (${String(code)}) before reporting: ${err}`));
    });
  });
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));

/** A redis-server started outside the harness, detached, with its pidfile in `dir`. */
function detachedRedis(dir: string, port: number): ChildProcess {
  mkdirSync(dir, { recursive: true });
  const { server } = requireRedisBinaries();
  const child = spawn(
    server,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--pidfile', join(dir, 'redis.pid')],
    { cwd: dir, detached: true, stdio: 'ignore' },
  );
  child.unref();
  writeFileSync(join(dir, 'redis.pid'), `${child.pid}\n`);
  return child;
}

async function deadPid(): Promise<number> {
  const child = spawn('true');
  await exited(child);
  return child.pid!;
}

describe('binaries', () => {
  it('finds redis-server and redis-cli', () => {
    const found = findRedisBinaries();
    expect(found?.server).toMatch(/redis-server$/);
    expect(found?.cli).toMatch(/redis-cli$/);
  });

  it('reports a missing redis-server in one line', () => {
    expect(findRedisBinaries({ STRATACACHE_REDIS_SERVER: '/nonexistent/redis-server', PATH: '' }, [])).toBeUndefined();
    expect(REDIS_NOT_FOUND_MESSAGE).toBe(
      'redis-server not found: run "apt-get install -y redis-server" (bash scripts/test.sh does it for you)',
    );
    expect(REDIS_NOT_FOUND_MESSAGE).not.toContain('\n');
  });
});

describe('global setup', () => {
  it('tags this run so teardown can find the roots of crashed workers', async () => {
    expect(process.env.STRATACACHE_REDIS_RUN_ID).toMatch(/^\d+-[0-9a-f]+$/);
    const redis = await startStandalone();
    try {
      const root = currentRoot()!;
      expect(readFileSync(join(root, 'run.id'), 'utf8').trim()).toBe(process.env.STRATACACHE_REDIS_RUN_ID);
      expect(readFileSync(join(root, 'owner.pid'), 'utf8').trim()).toBe(String(process.pid));
      expect(root.startsWith(join(tmpdir(), `stratacache-redis-${process.pid}-`))).toBe(true);
    } finally {
      await redis.close();
    }
  });
});

describe('cleanup', () => {
  it('stopAll kills every server of this process and removes the run root', async () => {
    const a = await startStandalone();
    const b = await startStandalone();
    const root = currentRoot()!;
    await stopAll();
    expect(alive(a.pid) || alive(b.pid)).toBe(false);
    expect(existsSync(root)).toBe(false);
    expect(await waitFor(async () => (await isPortFree(a.port)) && (await isPortFree(b.port)), { timeoutMs: 5_000 })).toBe(true);
  });

  it.each(['exit', 'throw'] as const)('a process that ends without close() (%s) leaves no server and no dir', async (mode) => {
    const { child, report } = await runOwner(mode);
    await exited(child);
    await waitFor(() => !alive(report.pid), { timeoutMs: 5_000, message: 'server killed by the exit handler' });
    expect(existsSync(report.root)).toBe(false);
  });

  it('SIGTERM to the owner kills its servers', async () => {
    const { child, report } = await runOwner('wait');
    child.kill('SIGTERM');
    await exited(child);
    expect(child.signalCode).toBe('SIGTERM');
    await waitFor(() => !alive(report.pid), { timeoutMs: 5_000, message: 'server killed by the SIGTERM handler' });
    expect(existsSync(report.root)).toBe(false);
  });

  it('SIGKILL to the owner leaves an orphan that the reaper removes', async () => {
    const { child, report } = await runOwner('wait');
    child.kill('SIGKILL');
    await exited(child);
    expect(alive(report.pid)).toBe(true);
    expect(existsSync(report.root)).toBe(true);
    const result = await reapOrphans();
    expect(result.removedRoots).toContain(report.root);
    expect(result.killedPids).toContain(report.pid);
    expect(alive(report.pid)).toBe(false);
    expect(existsSync(report.root)).toBe(false);
  });
});

describe('reapOrphans', () => {
  const base = mkdtempSync(join(tmpdir(), 'harness-reaper-test-'));
  const spawned: ChildProcess[] = [];
  afterAll(() => {
    for (const c of spawned) if (c.pid && alive(c.pid)) process.kill(c.pid, 'SIGKILL');
    rmSync(base, { recursive: true, force: true });
  });

  it('reaps roots of dead owners only, and only redis processes started inside them', async () => {
    const { freePort } = await import('../src/ports');
    const dead = await deadPid();
    // Orphan: owner dead, a live redis-server inside.
    const orphanRoot = join(base, `stratacache-redis-${dead}-orphan`);
    mkdirSync(orphanRoot);
    writeFileSync(join(orphanRoot, 'owner.pid'), `${dead}\n`);
    const orphan = detachedRedis(join(orphanRoot, 'standalone-1', 'server-x'), await freePort());
    // Same dead root also names a redis that lives elsewhere (a pid-reused/foreign server) and a non-redis process.
    const foreignDir = join(base, 'foreign');
    const foreign = detachedRedis(foreignDir, await freePort());
    mkdirSync(join(orphanRoot, 'standalone-1', 'foreign'), { recursive: true });
    writeFileSync(join(orphanRoot, 'standalone-1', 'foreign', 'redis.pid'), `${foreign.pid}\n`);
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    writeFileSync(join(orphanRoot, 'standalone-1', 'sleep.pid'), `${sleeper.pid}\n`);
    // Live owner (this process): untouched.
    const liveRoot = join(base, `stratacache-redis-${process.pid}-live`);
    mkdirSync(liveRoot);
    writeFileSync(join(liveRoot, 'owner.pid'), `${process.pid}\n`);
    const kept = detachedRedis(join(liveRoot, 'standalone-1', 'server-y'), await freePort());
    spawned.push(orphan, foreign, sleeper, kept);
    await waitFor(() => [orphan, foreign, kept].every((c) => /redis-server/.test(readFileSync(`/proc/${c.pid}/cmdline`, 'utf8'))), {
      message: 'detached servers running',
    });

    const result = await reapOrphans({ baseDir: base });

    expect(result.removedRoots).toEqual([orphanRoot]);
    expect(result.killedPids).toEqual([orphan.pid]);
    expect(existsSync(orphanRoot)).toBe(false);
    expect(alive(orphan.pid!)).toBe(false);
    expect(alive(foreign.pid!)).toBe(true);
    expect(alive(sleeper.pid!)).toBe(true);
    expect(existsSync(liveRoot)).toBe(true);
    expect(alive(kept.pid!)).toBe(true);
  });

  it('treats a reused owner pid (different start time) as dead', async () => {
    const root = join(base, `stratacache-redis-${process.pid}-reused`);
    mkdirSync(root);
    writeFileSync(join(root, 'owner.pid'), `${process.pid}\n`);
    writeFileSync(join(root, 'owner.start'), '1\n');
    const result = await reapOrphans({ baseDir: base });
    expect(result.removedRoots).toContain(root);
  });
});
