import { strataTsup } from '@stratacache/tsup-config';

export default strataTsup({
  // `demo` is the runnable demo behind the root `pnpm demo` (node packages/core/dist/demo.js).
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', demo: 'src/demo.ts' },
  dts: { entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' } },
  external: ['vitest'],
});
