/**
 * CPU profile of the cached `tools/call` (issue 19): the gateway under 16 connections of
 * autocannon for 4 s, then the top self-time frames grouped by package.
 *
 *   cd apps/mcp-gateway && node --conditions=@stratacache/source --import tsx --cpu-prof --cpu-prof-dir=/tmp/gw-prof bench/profile.ts
 *   node --conditions=@stratacache/source --import tsx bench/profile.ts --summarize /tmp/gw-prof/<file>.cpuprofile
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { createDemoUpstream } from '../src/demo-upstream';
import { loadConfig } from '../src/config';
import { createGateway } from '../src/gateway';
import { cannon, rawInit } from './hot-path';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

function summarize(file: string): void {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  const total = prof.samples.length;
  const byFn = new Map<string, number>();
  const byPkg = new Map<string, number>();
  for (const n of prof.nodes) {
    if (!n.hitCount) continue;
    const url = n.callFrame.url;
    const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.includes('/packages/') ? `stratacache/${/packages\/([^/]+)/.exec(url)?.[1]}` : url.includes('/apps/mcp-gateway/') ? 'gateway' : url.startsWith('node:') ? 'node' : n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : 'v8/native');
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + n.hitCount);
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + n.hitCount);
  }
  // inclusive time: every sample counts once for each distinct frame on its stack
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const nodeById = new Map(prof.nodes.map((n) => [n.id, n]));
  const incl = new Map<string, number>();
  for (const sid of prof.samples) {
    const seen = new Set<string>();
    for (let id: number | undefined = sid; id !== undefined; id = parent.get(id)) {
      const n = nodeById.get(id)!;
      if (!n.callFrame.url) continue;
      seen.add(`${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`);
    }
    for (const k of seen) incl.set(k, (incl.get(k) ?? 0) + 1);
  }
  const top = (m: Map<string, number>, k: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k);
  console.log(`${total} samples`);
  console.log('by package (self time):');
  for (const [k, v] of top(byPkg, 12)) console.log(`  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  console.log('by function (self time):');
  for (const [k, v] of top(byFn, 25)) console.log(`  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  console.log('by function (inclusive):');
  for (const [k, v] of top(incl, 400)) console.log(`  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
}

async function profile(): Promise<void> {
  const upstream = createDemoUpstream({ latency: 0 });
  await upstream.listen();
  const gateway = await createGateway(
    loadConfig({ UPSTREAM_URL: upstream.url, KEY_SECRET: 'bench-key-secret-0123456789', LOG_FORMAT: 'json' }),
    { logDestination: new Writable({ write: (_c, _e, cb) => cb() }) },
  );
  const mcpUrl = `${await gateway.listen(0, '127.0.0.1')}/mcp`;
  const sid = await rawInit(mcpUrl);
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-api-key': 'demo-key-alice', 'mcp-session-id': sid, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_me', arguments: {} } });
  await fetch(mcpUrl, { method: 'POST', headers, body }).then((r) => r.text());
  const r = await cannon({ url: mcpUrl, method: 'POST', headers, body, duration: 4 });
  console.log(`${r.rps.toFixed(0)} req/s p50 ${r.p50} ms p99 ${r.p99} ms`);
  await gateway.close();
  await upstream.close();
}

const i = process.argv.indexOf('--summarize');
if (i > 0) summarize(process.argv[i + 1]!);
else await profile();
