import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { HarnessError } from './errors';

/** Paths of the Redis executables the harness runs. */
export interface RedisBinaries {
  server: string;
  cli: string;
}

/** The one line printed when Redis is not installed. */
export const REDIS_NOT_FOUND_MESSAGE =
  'redis-server not found: run "apt-get install -y redis-server" (bash scripts/test.sh does it for you)';

const FALLBACK_DIRS = ['/usr/bin', '/usr/local/bin', '/usr/sbin', '/usr/local/sbin'];

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findIn(dirs: readonly string[], name: string): string | undefined {
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Locates `redis-server` and `redis-cli`. `STRATACACHE_REDIS_SERVER` (an absolute path) wins when
 * set; otherwise `PATH` and the usual system directories are searched. `redis-cli` is looked for
 * beside the server first.
 */
export function findRedisBinaries(
  env: NodeJS.ProcessEnv = process.env,
  fallbackDirs: readonly string[] = FALLBACK_DIRS,
): RedisBinaries | undefined {
  const pathDirs = (env.PATH ?? '').split(delimiter);
  const override = env.STRATACACHE_REDIS_SERVER;
  const server = override
    ? isExecutable(override)
      ? override
      : undefined
    : findIn([...pathDirs, ...fallbackDirs], 'redis-server');
  if (!server) return undefined;
  const cli = findIn([dirname(server), ...pathDirs, ...fallbackDirs], 'redis-cli');
  if (!cli) return undefined;
  return { server, cli };
}

let cached: RedisBinaries | undefined;

/** Like {@link findRedisBinaries} but throws a one-line `ERR_REDIS_NOT_FOUND` error. Cached. */
export function requireRedisBinaries(): RedisBinaries {
  if (cached) return cached;
  const found = findRedisBinaries();
  if (!found) {
    const err = new HarnessError('ERR_REDIS_NOT_FOUND', REDIS_NOT_FOUND_MESSAGE);
    // One clear line: a stack trace adds nothing for a missing system package.
    err.stack = `${err.name} [${err.code}]: ${err.message}`;
    throw err;
  }
  cached = found;
  return found;
}
