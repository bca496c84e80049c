#!/usr/bin/env node
/**
 * `bash scripts/admin-api.sh` / `node apps/admin-api/dist/start.js`: the standalone admin API and
 * dashboard. Environment: see apps/admin-api/README.md. Ctrl-C / SIGTERM: clean shutdown, exit 0.
 */
import { AdminConfigError, loadConfig } from './config';
import { createAdminServer, type AdminServer } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  let server: AdminServer | undefined;
  let closing = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (closing) process.exit(1);
    closing = true;
    process.stdout.write(`\n${signal}: shutting down…\n`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await server?.close().catch(() => undefined);
    clearTimeout(force);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  server = await createAdminServer(config);
  const url = await server.listen();
  const lines = [
    '',
    `  stratacache admin API — cache prefix "${config.prefix}" on ${config.redisUrl ? 'Redis' : 'the embedded store'}`,
    `  dashboard   ${url}/cache/dashboard`,
    `  API         ${url}/cache/…   (OpenAPI UI ${url}/cache/docs)`,
    `  metrics     ${url}/metrics`,
    `  warming     ${server.warmingMode}${server.warmingMode === 'bullmq-producer' ? ` (enqueues on the "${config.warmingPrefix}" queues; the apps' workers run the jobs)` : server.warmingMode === 'embedded' ? ' (in process; no loaders declared: POST /cache/warming refuses every key)' : ''}`,
  ];
  if (config.generated) {
    // printed on the terminal once, never logged
    for (const t of config.tokens) lines.push(`  ${t.role.padEnd(5)} token ${t.token}   (generated for this run)`);
  }
  lines.push('', '  Ctrl-C to stop.', '');
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof AdminConfigError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`fatal: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
