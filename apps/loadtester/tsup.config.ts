import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { defineConfig } from 'tsup';

const require = createRequire(import.meta.url);

// An app, ESM only. The test harness (TypeScript source only) is bundled in, so `redis-down` and
// `failover` work from dist; `?raw` imports (uPlot's JS and CSS) are inlined as text at build
// time so the HTML report needs no CDN.
export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts', 'src/engine.ts'],
  format: ['esm'],
  dts: { entry: ['src/index.ts', 'src/engine.ts'] },
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  noExternal: ['@stratacache/redis-harness', /\?raw$/],
  esbuildPlugins: [
    {
      name: 'raw',
      setup(build) {
        // the '.txt' suffix keeps esbuild from treating a .css file as a stylesheet
        build.onResolve({ filter: /\?raw$/ }, (args) => ({ path: `${require.resolve(args.path.slice(0, -4))}.txt`, namespace: 'raw' }));
        build.onLoad({ filter: /.*/, namespace: 'raw' }, async (args) => ({ contents: await readFile(args.path.slice(0, -4), 'utf8'), loader: 'text' }));
      },
    },
  ],
});
