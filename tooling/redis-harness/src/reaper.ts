import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { isProcessAlive, isRedisProcess, processCwd, processStartTime } from './proc';
import { OWNER_PID_FILE, OWNER_START_FILE, ROOT_PREFIX, RUN_ID_FILE } from './run-root';
import { sleep } from './wait-for';

/** What a reap pass did. */
export interface ReapResult {
  /** Run roots removed. */
  removedRoots: string[];
  /** Pids of redis processes killed. */
  killedPids: number[];
}

/** Roots younger than this without an owner file are being created right now: leave them. */
const FRESH_ROOT_GRACE_MS = 60_000;

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Owner pid of a run root: the owner file, else the pid in the directory name. */
function ownerOf(rootDir: string, name: string): { pid: number; start?: string } | undefined {
  const fromFile = Number.parseInt(readText(join(rootDir, OWNER_PID_FILE)) ?? '', 10);
  const fromName = Number.parseInt(name.slice(ROOT_PREFIX.length).split('-')[0] ?? '', 10);
  const pid = Number.isInteger(fromFile) && fromFile > 0 ? fromFile : fromName;
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const start = readText(join(rootDir, OWNER_START_FILE));
  return start ? { pid, start } : { pid };
}

function isOwnerAlive(owner: { pid: number; start?: string }): boolean {
  if (!isProcessAlive(owner.pid)) return false;
  // Same pid, different start time: the pid was reused by an unrelated process.
  if (owner.start !== undefined) {
    const now = processStartTime(owner.pid);
    if (now !== undefined && now !== owner.start) return false;
  }
  return true;
}

/** `*.pid` files (except the owner file) up to three levels below the root. */
function pidFiles(dir: string, depth = 0): string[] {
  if (depth > 3) return [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...pidFiles(full, depth + 1));
    else if (entry.isFile() && entry.name.endsWith('.pid') && depth > 0) out.push(full);
  }
  return out;
}

/**
 * Kills the redis processes recorded under a run root: only pids whose /proc cmdline is
 * redis-server/redis-sentinel and whose working directory (when readable) lies inside the root.
 */
async function killServersUnder(rootDir: string): Promise<number[]> {
  const killed: number[] = [];
  for (const file of pidFiles(rootDir)) {
    const pid = Number.parseInt(readText(file) ?? '', 10);
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    if (!isProcessAlive(pid) || !isRedisProcess(pid)) continue;
    const cwd = processCwd(pid)?.replace(/ \(deleted\)$/, '');
    if (cwd !== undefined && cwd !== rootDir && !cwd.startsWith(rootDir + sep)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  const deadline = Date.now() + 5_000;
  while (killed.some(isProcessAlive) && Date.now() < deadline) await sleep(20);
  return killed;
}

function listRoots(baseDir: string): { dir: string; name: string }[] {
  let names: string[];
  try {
    names = readdirSync(baseDir);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.startsWith(ROOT_PREFIX))
    .map((name) => ({ dir: join(baseDir, name), name }))
    .filter(({ dir }) => {
      try {
        return statSync(dir).isDirectory();
      } catch {
        return false;
      }
    });
}

async function reapRoot(dir: string, result: ReapResult): Promise<void> {
  result.killedPids.push(...(await killServersUnder(dir)));
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  if (!existsSync(dir)) result.removedRoots.push(dir);
}

/**
 * Removes run roots left by interrupted runs: a root whose owner process is dead has its redis
 * servers killed (by pidfile, checked against /proc) and is deleted. Roots of live owners are
 * never touched, nor any Redis the harness did not start.
 */
export async function reapOrphans(opts: { baseDir?: string } = {}): Promise<ReapResult> {
  const result: ReapResult = { removedRoots: [], killedPids: [] };
  for (const { dir, name } of listRoots(opts.baseDir ?? tmpdir())) {
    const owner = ownerOf(dir, name);
    if (owner) {
      if (isOwnerAlive(owner)) continue;
    } else {
      // No recognisable owner: only reap once it is clearly stale.
      try {
        if (Date.now() - statSync(dir).mtimeMs < FRESH_ROOT_GRACE_MS) continue;
      } catch {
        continue;
      }
    }
    await reapRoot(dir, result);
  }
  return result;
}

/** Kills the servers of every root tagged with `runId` (whatever its owner) and removes them. */
export async function reapRun(runId: string, opts: { baseDir?: string } = {}): Promise<ReapResult> {
  const result: ReapResult = { removedRoots: [], killedPids: [] };
  for (const { dir } of listRoots(opts.baseDir ?? tmpdir())) {
    if (readText(join(dir, RUN_ID_FILE)) === runId) await reapRoot(dir, result);
  }
  return result;
}
