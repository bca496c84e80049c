import { defineConfig } from 'tsup';

export default defineConfig({
  // `demo` is the runnable demo behind the root `pnpm demo` (node packages/core/dist/demo.js).
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', demo: 'src/demo.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['vitest'],
});
