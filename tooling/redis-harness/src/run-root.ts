import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processStartTime } from './proc';

/** Every run root is `<tmpdir>/stratacache-redis-<ownerPid>-<random>/`. */
export const ROOT_PREFIX = 'stratacache-redis-';
/** File in a run root holding the owner's pid (decimal). */
export const OWNER_PID_FILE = 'owner.pid';
/** File in a run root holding the owner's /proc start time (guards against pid reuse). */
export const OWNER_START_FILE = 'owner.start';
/** File in a run root naming the vitest run (global setup) it belongs to. */
export const RUN_ID_FILE = 'run.id';
/** Environment variable the global setup sets so workers tag their roots with the run. */
export const RUN_ID_ENV = 'STRATACACHE_REDIS_RUN_ID';

/** Something this process started and must kill synchronously on exit. */
export interface Tracked {
  killSync(): void;
}

const tracked = new Set<Tracked>();
let root: string | undefined;
let activeDeployments = 0;
let deploymentSeq = 0;
let handlersInstalled = false;

function createRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), `${ROOT_PREFIX}${process.pid}-`));
  writeFileSync(join(dir, OWNER_PID_FILE), `${process.pid}\n`);
  const start = processStartTime(process.pid);
  if (start) writeFileSync(join(dir, OWNER_START_FILE), `${start}\n`);
  const runId = process.env[RUN_ID_ENV];
  if (runId) writeFileSync(join(dir, RUN_ID_FILE), `${runId}\n`);
  return dir;
}

/** Creates `<root>/<kind>-<n>/` for a new deployment (standalone, cluster, sentinel). */
export function openDeploymentDir(kind: string): string {
  installExitHandlers();
  root ??= createRoot();
  activeDeployments++;
  const dir = join(root, `${kind}-${++deploymentSeq}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Removes a deployment dir; the run root goes too once no deployment is left. */
export function closeDeploymentDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  activeDeployments = Math.max(0, activeDeployments - 1);
  if (activeDeployments === 0 && root) {
    rmSync(root, { recursive: true, force: true });
    root = undefined;
  }
}

/** The current run root of this process, if one exists. */
export function currentRoot(): string | undefined {
  return root;
}

export function track(item: Tracked): void {
  tracked.add(item);
}

export function untrack(item: Tracked): void {
  tracked.delete(item);
}

/** SIGKILLs every tracked child and removes the run root, synchronously. Safe to call twice. */
export function cleanupSync(): void {
  for (const item of [...tracked]) {
    try {
      item.killSync();
    } catch {
      // already gone
    }
  }
  tracked.clear();
  if (root) {
    try {
      rmSync(root, { recursive: true, force: true, maxRetries: 2 });
    } catch {
      // the orphan reaper of a later run removes leftovers
    }
    root = undefined;
    activeDeployments = 0;
  }
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupSync();
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  // Keep the default behaviour (die by the signal) unless someone else handles it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupSync);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
