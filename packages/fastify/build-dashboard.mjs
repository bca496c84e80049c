// Bundles the dashboard page's script with its chart library (uPlot) and CSS into
// dist/dashboard/app.js: the package serves it itself, nothing comes from a CDN.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

export async function buildDashboard() {
  const root = fileURLToPath(new URL('.', import.meta.url));
  await build({
    absWorkingDir: root,
    entryPoints: ['src/dashboard/client.js'],
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    loader: { '.css': 'text' },
    outfile: 'dist/dashboard/app.js',
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildDashboard();
