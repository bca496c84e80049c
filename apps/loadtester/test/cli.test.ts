// The CLI: exit code from the scenario's check, the reason on the last line, usage errors, and
// no traffic to a non-loopback target.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/main';
import { outDir } from './helpers';

let out = '';
let err = '';
beforeEach(() => {
  out = err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());
const lastLine = (): string => out.trimEnd().split('\n').at(-1)!;

describe('stratacache-load', () => {
  it('exits 1 with the reason on the last line when the check fails', async () => {
    const code = await main(['zipf', '-q', '-o', outDir, '-c', '4', '--sessions', '1', '-n', '100', '--redis', 'none', '--min-hit-rate', '1', '--no-png', '--no-html']);
    expect(code).toBe(1);
    expect(lastLine()).toMatch(/^FAIL: hit rate \d+(\.\d)?% < --min-hit-rate 100\.0%$/);
    expect(out).toMatch(/latency ms {2}p50 [\d.]+ {2}p95/);
  });

  it('exits 0 with PASS on the last line, and shows the progress lines when not a TTY', async () => {
    const code = await main(['zipf', '-o', outDir, '-c', '4', '--sessions', '1', '-n', '200', '--redis', 'none', '--no-png', '--no-html']);
    expect(code).toBe(0);
    expect(lastLine()).toMatch(/^PASS: 0 errors/);
    expect(err).toMatch(/zipf 100% 200 req \d+ req\/s hit [\d.]+% p99 [\d.]+ ms errors 0/);
  });

  it('refuses a non-loopback target before sending anything', async () => {
    const code = await main(['zipf', '-q', '--url', 'http://10.20.30.40:3000/mcp']);
    expect(code).toBe(1);
    expect(lastLine()).toMatch(/not a loopback address/);
  });

  it('usage errors exit 2; --help lists every scenario', async () => {
    expect(await main(['nope'])).toBe(2);
    expect(await main(['zipf', '--rate', 'x'])).toBe(2);
    expect(await main(['--help'])).toBe(0);
    for (const s of ['zipf', 'mixed', 'stampede', 'redis-down', 'failover', 'soak']) expect(out).toContain(`  ${s} `);
  });
});
