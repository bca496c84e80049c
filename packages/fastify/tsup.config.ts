import { strataTsup } from '@stratacache/tsup-config';

// the dashboard script (uPlot bundled in) is built by build-dashboard.mjs after this, into dist/dashboard/
export default strataTsup({ shims: true });
