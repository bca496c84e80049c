// Shared vitest preset. A package's vitest.config.ts is:
//   import { strataVitest } from '@stratacache/vitest-config';
//   export default strataVitest({ redis: true });
import { defineConfig, mergeConfig } from 'vitest/config';
import { defaultServerConditions } from 'vite';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const SOURCE_CONDITION = '@stratacache/source';
const harnessSetup = fileURLToPath(new URL('../redis-harness/src/global-setup.ts', import.meta.url));

/** scripts/test.sh sets STRATA_REPORT_DIR so it can sum every package's results into one line. */
function reportFile() {
  const dir = process.env.STRATA_REPORT_DIR;
  if (!dir) return undefined;
  const name = path.basename(process.cwd());
  return path.join(dir, `${name}.json`);
}

/**
 * @param {{ redis?: boolean, overrides?: import('vitest/config').UserConfig }} [opts]
 */
export function strataVitest(opts = {}) {
  const conditions = [SOURCE_CONDITION, ...defaultServerConditions];
  const base = defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: [SOURCE_CONDITION] } },
    test: {
      include: ['test/**/*.test.ts'],
      environment: 'node',
      pool: 'forks',
      testTimeout: 60_000,
      hookTimeout: 60_000,
      teardownTimeout: 30_000,
      globalSetup: opts.redis ? [harnessSetup] : [],
      reporters: reportFile() ? ['default', 'json'] : ['default'],
      outputFile: reportFile() ? { json: reportFile() } : undefined,
    },
  });
  return opts.overrides ? mergeConfig(base, opts.overrides) : base;
}
