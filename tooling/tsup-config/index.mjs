// Shared tsup preset. A package's tsup.config.ts is:
//   import { strataTsup } from '@stratacache/tsup-config';
//   export default strataTsup();
// or, with extra entries / externals:
//   export default strataTsup({ entry: { index: 'src/index.ts', cli: 'src/cli.ts' } });

/**
 * Returns the workspace tsup options (the object `defineConfig` takes): `src/index.ts` built to
 * ESM (`dist/index.js`) + CJS (`dist/index.cjs`) with `.d.ts`/`.d.cts`, source maps, a clean
 * `dist/`, target node20. `overrides` are merged shallowly: a key given there replaces the
 * preset's value for that key as a whole (e.g. `entry`, `dts`, `external`).
 *
 * @param {import('tsup').Options} [overrides]
 * @returns {import('tsup').Options}
 */
export function strataTsup(overrides = {}) {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    ...overrides,
  };
}
