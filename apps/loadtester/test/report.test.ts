// The HTML report in headless Chromium (Debian's, driven by playwright-core): three uPlot charts
// drawn from the run's own data, no request leaves the file; the PNG is a real PNG.
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { chartData } from '../src/report/html';
import { runScenario, type RunResult } from '../src/run';
import { findScenario } from '../src/scenarios';
import { optionsFor } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`SKIPPED the HTML report test: ${CHROMIUM} is missing (apt-get install -y chromium; bash scripts/test.sh installs it)`);

let run: RunResult;
let browser: Browser | undefined;

beforeAll(async () => {
  run = await runScenario(findScenario('zipf')!, optionsFor('zipf', ['-c', '8', '--sessions', '2', '-n', '400', '-d', '10s', '--interval', '200ms']));
  if (haveChromium) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

describe('reports', () => {
  it('writes JSON, a self-contained HTML page and a PNG of the main chart', () => {
    expect(run.files.html).toBeDefined();
    const html = readFileSync(run.files.html!, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/cdn/i);
    expect(html).toContain('<style>.uplot'); // uPlot's stylesheet inlined as text
    const png = readFileSync(run.files.png!);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.readUInt32BE(16)).toBe(960); // IHDR width
  });

  it.skipIf(!haveChromium)('the HTML charts, opened in headless Chromium, hold the run data', async () => {
    const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(run.files.html!).href);
    await page.waitForSelector('body[data-charts="3"]', { timeout: 10_000 });
    const drawn = await page.evaluate(() =>
      (globalThis as unknown as { __charts: { id: string; plot: { data: (number | null)[][] } }[] }).__charts.map((c) => ({ id: c.id, data: c.plot.data.map((s) => Array.from(s)) })),
    );
    const expected = chartData(run.report);
    expect(drawn.map((c) => c.id)).toEqual(['latency', 'percentiles', 'hitrate']);
    for (let i = 0; i < expected.length; i++) expect(drawn[i]!.data).toEqual(expected[i]!.data);
    // the latency chart carries the run's per-interval p99, the curve its percentiles
    expect(drawn[0]!.data[2]).toEqual(run.report.series.map((p) => p.p99Ms));
    expect(drawn[1]!.data[1]!.at(-1)).toBe(run.report.latencyMs.max);
    expect(await page.locator('.uplot canvas').count()).toBe(3);
    expect(await page.locator('#summary').innerText()).toContain(`${run.report.requests} in`);
    expect(await page.locator('#fault').count()).toBe(0); // zipf has no fault window to shade
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    await page.close();
  });
});
