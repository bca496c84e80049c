import { execFile } from 'node:child_process';
import { requireRedisBinaries } from './binaries';
import { HarnessError } from './errors';

/**
 * Runs `redis-cli -h 127.0.0.1 -p <port> <args…>` and resolves with its stdout, trimmed. Error
 * replies (`ERR …`) are stdout too and resolve; a failed connection or a timeout rejects with
 * `ERR_REDIS_CLI`.
 */
export function redisCli(port: number, args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const { cli } = requireRedisBinaries();
  const timeout = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    execFile(
      cli,
      ['-h', '127.0.0.1', '-p', String(port), '--no-auth-warning', ...args],
      { timeout, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) {
          const why = error.killed ? `timed out after ${timeout} ms` : (stderr || stdout || error.message).trim();
          reject(new HarnessError('ERR_REDIS_CLI', `redis-cli -p ${port} ${args.join(' ')}: ${why}`, { cause: error }));
          return;
        }
        const out = stdout.trim();
        if (/^Could not connect to Redis/.test(out) || /^Could not connect to Redis/.test(stderr.trim())) {
          reject(new HarnessError('ERR_REDIS_CLI', `redis-cli -p ${port} ${args.join(' ')}: ${(stderr || out).trim()}`));
          return;
        }
        resolve(out);
      },
    );
  });
}

/** Parses `INFO`/`CLUSTER INFO` style `key:value` lines. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}
