/**
 * One sequential agent (SDK `Client` + Streamable HTTP), run in its own process by the hot-path
 * bench like a real agent: `node --import tsx bench/sdk-agent.ts <mcp url> <calls> <warm-up>`.
 * Prints the latencies (ms) of the cached calls, then of the cold calls, as JSON.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, callsArg, warmArg, coldArg] = process.argv.slice(2);
const calls = Number(callsArg);
const warm = Number(warmArg);
const coldKeys = Number(coldArg);

// the SDK client adds one abort listener per fetch to one AbortSignal (released when the
// requests are collected): its MaxListeners warning is noise here, other warnings still print
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'MaxListenersExceededWarning' || !w.message.includes('AbortSignal')) console.error(w);
});

const client = new Client({ name: 'bench-agent', version: '0' });
await client.connect(new StreamableHTTPClientTransport(new URL(url!), { requestInit: { headers: { 'x-api-key': 'demo-key-alice' } } }));
const cached: number[] = [];
for (let i = 0; i < warm + calls; i++) {
  const t0 = performance.now();
  await client.callTool({ name: 'get_me', arguments: {} });
  if (i >= warm) cached.push(performance.now() - t0);
}
const cold: number[] = [];
for (let i = 1; i <= coldKeys; i++) {
  const t0 = performance.now();
  const r = (await client.callTool({ name: 'get_job', arguments: { id: `job-${i}` } })) as { _meta?: Record<string, unknown> };
  cold.push(performance.now() - t0);
  if (r._meta?.['stratacache/source'] !== 'origin') throw new Error('cold read was not an origin call');
}
await client.close();
process.stdout.write(JSON.stringify({ cached, cold }));
