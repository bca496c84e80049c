/**
 * Overhead of the breaker in the CLOSED state, as ratios against a bare awaited call of the same
 * async function, measured in the same run.
 *
 * Method: every variant runs a batch of sequential awaited calls; variants are interleaved round
 * by round (rotating the order) after warm-up rounds, and each variant's ratio is the median of
 * its per-round ratios to the bare loop of the same round, so CPU contention from other processes
 * hits numerator and denominator alike. Hand-rolled with process.hrtime.bigint(): the quantity
 * of interest is a ratio of two tight loops, which a bench framework would not make more
 * accurate, and the package stays dependency-free.
 *
 * Two protected operations:
 *  - "I/O-like": an async function that resolves on the next event-loop turn (setImmediate),
 *    the cheapest shape a real network call (a Redis GET) can have. This is the headline.
 *  - "no-I/O": an async function that does no I/O at all: the worst case for relative
 *    overhead. Observing a promise's outcome at all (one `.then`) already costs a large fraction
 *    of such a call; that floor is measured as its own variant so the breaker's own share is visible.
 *
 * Run: pnpm bench   (env: BENCH_ROUNDS, BENCH_OPS_CPU, BENCH_OPS_IO)
 */
import { CircuitBreaker } from '../src/index';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const WARMUP_ROUNDS = 3;
const GOAL = 1.3;
const BUDGET_MS = 25_000;

let sink = 0;
const noIoOp = async (): Promise<number> => {
  sink = (sink + 1) | 0;
  return sink;
};
const ioOp = (): Promise<number> =>
  new Promise<number>((resolve) => {
    setImmediate(() => {
      sink = (sink + 1) | 0;
      resolve(sink);
    });
  });

const noop = (): void => undefined;
let events = 0;

interface Variant {
  name: string;
  run: (op: () => Promise<number>, n: number) => Promise<void>;
}

function makeVariants(): Variant[] {
  const plain = new CircuitBreaker({ name: 'bench-plain' });
  const lowLevel = new CircuitBreaker({ name: 'bench-low-level' });
  const observed = new CircuitBreaker({ name: 'bench-observed' });
  observed.on('success', () => {
    events++;
  });
  const timed = new CircuitBreaker({ name: 'bench-timeout', callTimeout: 10_000 });
  return [
    {
      name: 'bare await',
      run: async (op, n) => {
        for (let i = 0; i < n; i++) await op();
      },
    },
    {
      name: 'floor: bare + .then(noop, noop)',
      run: async (op, n) => {
        for (let i = 0; i < n; i++) {
          const p = op();
          p.then(noop, noop);
          await p;
        }
      },
    },
    {
      name: 'execute()',
      run: async (op, n) => {
        for (let i = 0; i < n; i++) await plain.execute(op);
      },
    },
    {
      name: 'tryAcquire/onSuccess',
      run: async (op, n) => {
        for (let i = 0; i < n; i++) {
          if (!lowLevel.tryAcquire()) throw new Error('unexpected rejection');
          try {
            await op();
          } catch (error) {
            lowLevel.onFailure(error);
            throw error;
          }
          lowLevel.onSuccess();
        }
      },
    },
    {
      name: 'execute() + success listener',
      run: async (op, n) => {
        for (let i = 0; i < n; i++) await observed.execute(op);
      },
    },
    {
      name: 'execute() with callTimeout',
      run: async (op, n) => {
        for (let i = 0; i < n; i++) await timed.execute(op);
      },
    },
  ];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

interface SuiteResult {
  ns: Map<string, number>;
  ratio: Map<string, number>;
  rounds: number;
}

async function suite(label: string, op: () => Promise<number>, ops: number, deadline: number): Promise<SuiteResult> {
  const variants = makeVariants();
  const time = async (v: Variant): Promise<number> => {
    const start = process.hrtime.bigint();
    await v.run(op, ops);
    return Number(process.hrtime.bigint() - start) / ops;
  };
  for (let r = 0; r < WARMUP_ROUNDS; r++) for (const v of variants) await time(v);
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const ratios = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  let rounds = 0;
  for (let r = 0; r < ROUNDS && (r < 5 || Date.now() < deadline); r++) {
    const round = new Map<string, number>();
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + r) % variants.length] as Variant;
      round.set(v.name, await time(v));
    }
    const base = round.get('bare await') as number;
    for (const [name, ns] of round) {
      samples.get(name)?.push(ns);
      ratios.get(name)?.push(ns / base);
    }
    rounds++;
  }
  const result: SuiteResult = { ns: new Map(), ratio: new Map(), rounds };
  console.log(`\n${label}: ${ops} sequential calls per batch, ${WARMUP_ROUNDS} warm-up + ${rounds} rounds (medians)`);
  for (const v of variants) {
    const ns = median(samples.get(v.name) as number[]);
    const ratio = median(ratios.get(v.name) as number[]);
    result.ns.set(v.name, ns);
    result.ratio.set(v.name, ratio);
    console.log(`  ${v.name.padEnd(34)} ${ns.toFixed(1).padStart(8)} ns/op  ${ratio.toFixed(2)}x`);
  }
  return result;
}

const verdict = (x: number): string => `${x.toFixed(2)}x (goal <= ${GOAL}x) ${x <= GOAL ? 'PASS' : 'FAIL'}`;

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`@stratacache/breaker bench — node ${process.version}, ${process.platform}/${process.arch}`);
  const io = await suite('I/O-like op (resolves on the next event-loop turn)', ioOp, Number(process.env.BENCH_OPS_IO ?? 20_000), started + BUDGET_MS / 2);
  const cpu = await suite('no-I/O op (async function without I/O: worst case)', noIoOp, Number(process.env.BENCH_OPS_CPU ?? 100_000), started + BUDGET_MS);

  const own = (cpu.ns.get('execute()') as number) - (cpu.ns.get('floor: bare + .then(noop, noop)') as number);
  console.log('\nSummary');
  console.log(`execute() vs bare await: ${verdict(io.ratio.get('execute()') as number)}  [I/O-like op]`);
  console.log(`tryAcquire/onSuccess vs bare await: ${verdict(io.ratio.get('tryAcquire/onSuccess') as number)}  [I/O-like op]`);
  console.log(`execute() vs bare await, worst case: ${verdict(cpu.ratio.get('execute()') as number)}  [no-I/O op; the floor for any promise observer is ${(cpu.ratio.get('floor: bare + .then(noop, noop)') as number).toFixed(2)}x, the breaker adds ${own.toFixed(1)} ns/op on top]`);
  console.log(`tryAcquire/onSuccess vs bare await, worst case: ${verdict(cpu.ratio.get('tryAcquire/onSuccess') as number)}  [no-I/O op]`);
  console.log(`absolute cost of execute(): +${((cpu.ns.get('execute()') as number) - (cpu.ns.get('bare await') as number)).toFixed(1)} ns/op; with callTimeout: +${((cpu.ns.get('execute() with callTimeout') as number) - (cpu.ns.get('bare await') as number)).toFixed(1)} ns/op`);
  console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s; ${events} listener events; sink ${sink})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
