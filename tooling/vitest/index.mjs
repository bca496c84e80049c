// Shared vitest preset. A package's vitest.config.ts is:
//   import { strataVitest } from '@stratacache/vitest-config';
//   export default strataVitest({ redis: true });
import { defineConfig, mergeConfig } from 'vitest/config';
import { defaultServerConditions } from 'vite';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import ts from 'typescript';

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
 * Vite 8 transforms TypeScript with oxc, which only lowers legacy (experimentalDecorators)
 * decorators. With `decorators: true`, test files that use TS 5 standard decorators are lowered by
 * the TypeScript compiler first (only files that contain a decorator; everything else keeps the fast path).
 */
const standardDecorators = {
  name: 'stratacache:ts5-standard-decorators',
  enforce: 'pre',
  transform(code, id) {
    const file = id.split('?')[0] ?? id;
    if (!/\.[cm]?ts$/.test(file) || file.includes('/node_modules/') || !/^\s*@[A-Za-z_$][\w$]*(?:\(|\s*$)/m.test(code)) return null;
    const out = ts.transpileModule(code, {
      fileName: file,
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        sourceMap: true,
        experimentalDecorators: false,
        useDefineForClassFields: true,
      },
    });
    return { code: out.outputText, map: out.sourceMapText ?? null };
  },
};

/**
 * @param {{ redis?: boolean, decorators?: boolean, overrides?: import('vitest/config').UserConfig }} [opts]
 */
export function strataVitest(opts = {}) {
  const conditions = [SOURCE_CONDITION, ...defaultServerConditions];
  const base = defineConfig({
    plugins: opts.decorators ? [standardDecorators] : [],
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
