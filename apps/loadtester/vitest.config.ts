import { strataVitest } from '@stratacache/vitest-config';

// css: the HTML report imports uPlot's stylesheet as text (`?raw`); vitest skips CSS files
// (empty module) unless told to process them.
export default strataVitest({ redis: true, overrides: { test: { css: { include: [/uPlot/] } } } });
