#!/usr/bin/env node
// Runs @arethetypeswrong/cli on the tarball pnpm would publish for the package in the current
// directory (pnpm pack applies publishConfig, as `pnpm publish` / `changeset publish` do; attw's own
// --pack uses npm pack, which would not). Profile node16: ESM + CJS under node16/nodenext and
// bundler resolution (node10 cannot see subpath exports such as @stratacache/core/testing).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-attw-'));
try {
  execFileSync('pnpm', ['pack', '--pack-destination', dest], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tgz = fs.readdirSync(dest).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error('pnpm pack produced no tarball');
  const require = createRequire(import.meta.url);
  const bin = path.join(path.dirname(require.resolve('@arethetypeswrong/cli/package.json')), 'dist', 'index.js');
  execFileSync(process.execPath, [bin, path.join(dest, tgz), '--profile', 'node16', '--format', 'table-flipped'], { stdio: 'inherit' });
} catch (e) {
  process.exitCode = typeof e.status === 'number' ? e.status : 1;
  if (typeof e.status !== 'number') console.error(e);
} finally {
  fs.rmSync(dest, { recursive: true, force: true });
}
