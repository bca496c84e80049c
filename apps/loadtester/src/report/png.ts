// PNG of the main chart: our SVG rendered by @resvg/resvg-js (prebuilt binary in the npm package).
import { Resvg } from '@resvg/resvg-js';
import type { Report } from './report';
import { latencySvg } from './svg';

export function latencyPng(r: Report): Buffer {
  const resvg = new Resvg(latencySvg(r), { background: '#ffffff', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } });
  return resvg.render().asPng();
}
