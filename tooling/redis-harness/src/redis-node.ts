import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireRedisBinaries } from './binaries';
import { parseInfo, redisCli } from './cli';
import { HarnessError } from './errors';
import { freePort } from './ports';
import { pingPort } from './resp-ping';
import { track, untrack, type Tracked } from './run-root';
import { sleep } from './wait-for';

/** A redis-server (or sentinel) process started by the harness, with fault-injection handles. */
export interface RedisNode {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Pid of the current process (changes after `restart()`; the last pid once stopped). */
  readonly pid: number;
  /** The node's own directory (config, pidfile, logfile, nodes.conf). */
  readonly dir: string;
  /** `'server'` or `'sentinel'`. */
  readonly kind: NodeKind;
  /** Path of the redis log file. */
  readonly logfile: string;
  /** SIGTERM (SIGCONT first when paused) and wait for exit; SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** SIGSTOP: the port keeps accepting TCP connections but nothing answers. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Start again (stopping first if running) on the same port, dir and config; resolves once it answers PING. */
  restart(): Promise<void>;
  /** True while the process is alive (also while paused). */
  isRunning(): boolean;
  /** True between `pause()` and `resume()`. */
  isPaused(): boolean;
  /** `redis-cli -p <port> <args…>`, stdout trimmed (error replies resolve as text; connection failures reject). */
  cli(...args: string[]): Promise<string>;
  /** PING over a raw socket; true on PONG within `timeoutMs` (default 1000). */
  ping(timeoutMs?: number): Promise<boolean>;
}

export type NodeKind = 'server' | 'sentinel';

/** How to configure a node; `conf` lines come after the harness defaults. */
export interface NodeSpec {
  kind: NodeKind;
  /** Extra config-file lines (after the defaults). */
  conf?: (port: number, dir: string) => string[];
  /** Extra command-line arguments (standalone `args`). */
  args?: readonly string[];
  /** Also keep port+10 000 free (cluster bus). */
  bus?: boolean;
  /** Directory name prefix inside the deployment dir. */
  name: string;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const MAX_PORT_ATTEMPTS = 8;

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function baseConf(port: number, dir: string, kind: NodeKind): string[] {
  const lines = [
    `port ${port}`,
    'bind 127.0.0.1',
    'protected-mode no',
    'daemonize no',
    `pidfile ${quote(join(dir, 'redis.pid'))}`,
    `logfile ${quote(join(dir, 'redis.log'))}`,
    `dir ${quote(dir)}`,
  ];
  if (kind === 'server') lines.push('save ""', 'appendonly no');
  return lines;
}

function tail(file: string, lines = 6): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

/**
 * Children are unref'd (a forgotten server must not keep a script alive; the exit handler kills
 * it), so hold the event loop open ourselves while awaiting one of them.
 */
async function keepAlive<T>(work: Promise<T>): Promise<T> {
  const timer = setInterval(() => {}, 1_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

class ManagedNode implements RedisNode, Tracked {
  readonly host = '127.0.0.1' as const;
  readonly url: string;
  readonly logfile: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private lastPid = 0;
  private paused = false;

  constructor(
    readonly kind: NodeKind,
    readonly port: number,
    readonly dir: string,
    private readonly confPath: string,
    private readonly args: readonly string[],
  ) {
    this.url = `redis://127.0.0.1:${port}`;
    this.logfile = join(dir, 'redis.log');
  }

  get pid(): number {
    return this.lastPid;
  }

  isRunning(): boolean {
    return this.child !== undefined;
  }

  isPaused(): boolean {
    return this.child !== undefined && this.paused;
  }

  /** Spawns the process; resolves when it answers PING, rejects (after killing it) otherwise. */
  start(): Promise<void> {
    return keepAlive(this.startNow());
  }

  private async startNow(): Promise<void> {
    if (this.child) throw new HarnessError('ERR_REDIS_START', `redis on port ${this.port} is already running`);
    const { server } = requireRedisBinaries();
    const argv = [this.confPath, ...(this.kind === 'sentinel' ? ['--sentinel'] : []), ...this.args];
    const outPath = join(this.dir, 'stdout.log');
    const out = openSync(outPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(server, argv, { cwd: this.dir, stdio: ['ignore', out, out], detached: false });
    } finally {
      closeSync(out);
    }
    if (child.pid === undefined) {
      // spawn failure is reported through 'error'
      await new Promise<void>((resolve) => child.once('error', () => resolve()));
      throw new HarnessError('ERR_REDIS_START', `could not spawn ${server}`);
    }
    this.child = child;
    this.paused = false;
    this.lastPid = child.pid;
    // Our own copy of the pidfile right away (redis rewrites the same pid), so the orphan reaper
    // finds the process even if we die before redis writes it.
    writeFileSync(join(this.dir, 'redis.pid'), `${child.pid}\n`);
    child.unref();
    track(this);
    let exitInfo = '';
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `code ${String(code)}`;
        if (this.child === child) {
          this.child = undefined;
          this.paused = false;
        }
        untrack(this);
        resolve();
      });
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const failure = (why: string): HarnessError =>
      new HarnessError(
        'ERR_REDIS_START',
        `${this.kind} on port ${this.port} ${why}: ${tail(this.logfile) || tail(outPath) || 'no log output'}`,
      );
    for (;;) {
      if (this.child !== child) throw failure(`exited during start-up (${exitInfo})`);
      if (await pingPort(this.port, 1_000)) {
        // Make sure the answer came from our process, not from one that grabbed the port first.
        let pid = Number.NaN;
        try {
          pid = Number(parseInfo(await redisCli(this.port, ['INFO', 'server'], { timeoutMs: 5_000 })).process_id);
        } catch {
          // retried below
        }
        if (pid === child.pid) return;
        if (Number.isInteger(pid)) {
          // Someone else answers on our port: ours is about to fail with "Address already in use".
          await Promise.race([this.exited, sleep(2_000)]);
          await this.kill();
          throw failure(`lost its port to another process (pid ${pid}); Address already in use`);
        }
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw failure(`did not answer PING within ${READY_TIMEOUT_MS} ms`);
      }
      await sleep(25);
    }
  }

  stop(): Promise<void> {
    return keepAlive(this.stopNow());
  }

  private async stopNow(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    if (this.paused) child.kill('SIGCONT');
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_GRACE_MS).unref());
    if ((await Promise.race([this.exited.then(() => 'exited' as const), timer])) === 'timeout') {
      await this.kill();
    }
    await this.exited;
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGKILL');
    await keepAlive(this.exited);
  }

  killSync(): void {
    this.child?.kill('SIGKILL');
  }

  pause(): void {
    if (!this.child) throw new HarnessError('ERR_CLOSED', `cannot pause: redis on port ${this.port} is not running`);
    this.child.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.child) return;
    this.child.kill('SIGCONT');
    this.paused = false;
  }

  async restart(): Promise<void> {
    if (this.child) await this.stop();
    if (!existsSync(this.dir)) throw new HarnessError('ERR_CLOSED', `cannot restart: ${this.dir} was removed (closed)`);
    await this.start();
  }

  cli(...args: string[]): Promise<string> {
    return redisCli(this.port, args);
  }

  ping(timeoutMs = 1_000): Promise<boolean> {
    return pingPort(this.port, timeoutMs);
  }
}

function isPortClash(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  return /already in use|Could not create server TCP listening socket|Could not create socket for cluster bus/i.test(text);
}

/**
 * Picks a free port, writes `<parent>/<name>-<port>/redis.conf` and starts the process; on a port
 * clash (another process took the port between probe and bind) retries with a new port.
 */
export async function launchNode(parent: string, spec: NodeSpec): Promise<RedisNode> {
  let lastError: unknown;
  for (let attempt = 0; attempt < MAX_PORT_ATTEMPTS; attempt++) {
    const port = await freePort({ bus: spec.bus ?? false });
    const dir = join(parent, `${spec.name}-${port}`);
    mkdirSync(dir, { recursive: true });
    const confPath = join(dir, spec.kind === 'sentinel' ? 'sentinel.conf' : 'redis.conf');
    const lines = [...baseConf(port, dir, spec.kind), ...(spec.conf?.(port, dir) ?? [])];
    writeFileSync(confPath, `${lines.join('\n')}\n`);
    const node = new ManagedNode(spec.kind, port, dir, confPath, spec.args ?? []);
    try {
      await node.start();
      return node;
    } catch (err) {
      lastError = err;
      rmSync(dir, { recursive: true, force: true });
      if (!isPortClash(err)) throw err;
      await sleep(20 * (attempt + 1));
    }
  }
  throw lastError instanceof Error
    ? lastError
    : new HarnessError('ERR_REDIS_START', `could not start ${spec.kind}: ${String(lastError)}`);
}

/** SIGKILLs a set of nodes in parallel and waits for them to exit. */
export async function killAll(nodes: readonly RedisNode[]): Promise<void> {
  for (const node of nodes) if (node.isPaused()) node.resume();
  await Promise.all(nodes.map((node) => node.kill()));
}
