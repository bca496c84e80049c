import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startStandalone, type StandaloneRedis } from '@stratacache/redis-harness';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminServer, loadConfig, type AdminServer } from '../src/index';
import { ensureChromium } from './chromium';

const READ = 'read-token-dashboard-test-0001';
const ADMIN = 'admin-token-dashboard-test-0001';
const shots = fileURLToPath(new URL('../../../test-artifacts/dashboard/', import.meta.url));

let redis: StandaloneRedis;
let server: AdminServer;
let browser: Browser;
let url: string;

const api = async (path: string, token = READ): Promise<any> => (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })).json();

beforeAll(async () => {
  const executablePath = ensureChromium();
  mkdirSync(shots, { recursive: true });
  redis = await startStandalone();
  server = await createAdminServer(
    loadConfig({ REDIS_URL: `redis://127.0.0.1:${redis.port}`, ADMIN_TOKENS: `read:${READ},admin:${ADMIN}`, PORT: '0', ANALYTICS_FLUSH_MS: '0', DASHBOARD_REFRESH_MS: '600000', LOG_LEVEL: 'warn', CACHE_PREFIX: 'dash' }),
  );
  url = await server.listen();
  // traffic: 150 distinct misses (hit rate < 50 % with >= 100 requests fires the alert), then hits
  for (let i = 0; i < 150; i++) {
    // a few slow origin calls, so the latency chart has an origin curve
    await server.cache.getOrSet(`jobs:get:${i}`, async () => (i % 10 === 0 ? new Promise((r) => setTimeout(() => r({ id: i }), 5 + (i % 30))) : { id: i }), { ttl: '10m', tags: ['jobs'] });
  }
  for (let i = 0; i < 60; i++) await server.cache.getOrSet(`contacts:get:${i % 4}`, async () => ({ id: i }), { ttl: '10m' });
  await server.cache.invalidateTag('jobs');
  await server.cache.invalidateNamespace('contacts');
  await server.analytics.flush();
  await server.alerts.evaluate();
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await redis?.close();
});

async function login(page: Page, token: string): Promise<void> {
  await page.goto(`${url}/cache/dashboard`);
  await page.fill('#token', token);
  await page.click('#login-button');
  await page.waitForSelector('#chart-hitRate canvas');
  await page.waitForSelector('#stat-requests');
}

describe('dashboard in headless Chromium (Debian chromium, real Redis)', () => {
  it('the charts hold what the JSON endpoints report; an alert is acknowledged from the page', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await login(page, ADMIN);
    expect(await page.textContent('#role')).toBe('admin token');

    const trend = await api('/cache/trends?range=1h');
    const charts = await page.evaluate(() => {
      const c = (globalThis as any).strataDashboard.charts;
      return Object.fromEntries(Object.entries(c).map(([k, u]: [string, any]) => [k, u.data.map((s: ArrayLike<unknown>) => Array.from(s))]));
    });
    // by timestamp (a minute may turn between the page's read and ours)
    const byT = new Map<number, any>(trend.points.map((p: any) => [p.t / 1000, p]));
    const [xs, hitRates] = charts.hitRate as [number[], number[]];
    const common = xs.map((x, i) => [x, i] as const).filter(([x]) => byT.has(x));
    expect(common.length).toBeGreaterThanOrEqual(58);
    for (const [x, i] of common) {
      expect(hitRates[i]).toBeCloseTo(byT.get(x).hitRate, 9);
      expect(charts.requests[1][i]).toBe(byT.get(x).requests);
      expect(charts.requests[2][i]).toBe(byT.get(x).originCalls);
    }
    const total = common.reduce((n, [, i]) => n + (charts.requests[1][i] as number), 0);
    expect(total).toBe(210);
    // latency chart: origin p99 of the busiest minute, as reported
    const busiest = common.reduce((a, b) => ((charts.requests[1][b[1]] as number) > (charts.requests[1][a[1]] as number) ? b : a));
    expect(charts.latency[6][busiest[1]]).toBeCloseTo(byT.get(busiest[0]).latency.origin.p99, 9);
    // cards and memory chart from the dashboard data
    const data = await api('/cache/dashboard/data');
    expect(await page.textContent('#stat-requests .value')).toBe(String(data.overview.local.requests));
    expect(data.overview.local.requests).toBe(210);
    const mem = charts.memory as [number[], (number | null)[], (number | null)[]];
    expect(mem[1].some((v) => typeof v === 'number' && v > 0)).toBe(true);
    expect(mem[2].some((v) => typeof v === 'number' && v >= 0)).toBe(true);
    expect(await page.locator('#top tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('#invalidations tbody tr').count()).toBe(2);
    // per-entity panel: the rows of data.entities (last hour's aggregate, all instances), in order
    expect(data.entities.length).toBeGreaterThanOrEqual(2);
    const rows = await page.locator('#entities tbody tr').evaluateAll((trs: any[]) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td: any) => td.textContent as string)));
    expect(rows).toEqual(
      data.entities.map((e: any) => [e.tenant, e.entity, String(e.requests), String(e.hits), `${(e.hitRate * 100).toFixed(1)} %`, String(e.originCalls), String(e.invalidations)]),
    );
    expect(rows.map((r) => r[1])).toEqual(expect.arrayContaining(['jobs', 'contacts']));
    // warming panel: the real warmer on Redis's queue — this server only enqueues
    expect(await page.textContent('#warming-mode')).toBe(`mode: ${data.warming.queue.mode}`);
    expect(data.warming.queue.mode).toBe('bullmq-producer');
    expect(await page.locator('#warming-queues tbody tr').count()).toBe(data.warming.queue.queues.length);
    await page.screenshot({ path: `${shots}admin.png`, fullPage: true });

    // acknowledge the firing alert from the page
    const alert = (await api('/cache/alerts')).active.find((a: any) => a.ruleId === 'hit_rate_below');
    expect(alert).toBeDefined();
    expect(alert.acknowledgedAt).toBeUndefined();
    const button = page.locator(`button.ack[data-alert="${alert.id}"]`);
    expect(await button.isEnabled()).toBe(true);
    await button.click();
    await page.waitForSelector(`span.acked[data-alert="${alert.id}"]`);
    expect(await page.textContent(`span.acked[data-alert="${alert.id}"]`)).toBe('acknowledged by admin-1');
    const after = (await api('/cache/alerts')).active.find((a: any) => a.id === alert.id);
    expect(after.acknowledgedBy).toBe('admin-1');
    await page.screenshot({ path: `${shots}acknowledged.png`, fullPage: true });
    expect(errors, errors.join("\n")).toEqual([]);
    await page.close();
  });

  it('a read token sees the data with every admin button disabled; a wrong token is refused', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.goto(`${url}/cache/dashboard`);
    await page.fill('#token', 'not-a-valid-token-at-all');
    await page.click('#login-button');
    await page.waitForSelector('#login-error');
    expect(await page.textContent('#login-error')).toBe('Unknown token.');
    await login(page, READ);
    expect(await page.textContent('#role')).toBe('read token');
    const buttons = page.locator('button.admin-action');
    const n = await buttons.count();
    expect(n).toBeGreaterThanOrEqual(3); // clear, optimize, invalidate
    for (let i = 0; i < n; i++) expect(await buttons.nth(i).isDisabled()).toBe(true);
    expect(await page.textContent('#stat-requests .value')).toBe('210');
    await page.screenshot({ path: `${shots}read-only.png`, fullPage: true });
    await page.close();
  });
});
