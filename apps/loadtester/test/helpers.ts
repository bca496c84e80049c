import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseCommand, type RunOptions } from '../src/options';
import { findScenario } from '../src/scenarios';

export const outDir = mkdtempSync(path.join(tmpdir(), 'lt-test-'));

/** Options as the CLI would parse them for `<scenario> ...args`, quiet, reports in a temp dir. */
export function optionsFor(scenario: string, args: string[]): RunOptions {
  return parseCommand([scenario, '-q', '-o', outDir, ...args], (n) => findScenario(n)?.defaults ?? {}).options;
}
