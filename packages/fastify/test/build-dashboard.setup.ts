// vitest global setup: the dashboard script is a build artifact (dist/dashboard/app.js); build it when absent.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export default async function setup(): Promise<void> {
  if (existsSync(fileURLToPath(new URL('../dist/dashboard/app.js', import.meta.url)))) return;
  // @ts-expect-error plain .mjs build script without types
  const { buildDashboard } = (await import('../build-dashboard.mjs')) as { buildDashboard(): Promise<void> };
  await buildDashboard();
}
