import { strataTsup } from '@stratacache/tsup-config';
import { defineConfig } from 'tsup';

// An app: ESM only (start.ts and config.ts use import.meta.url). Workspace packages stay
// external and resolve to their own dist/ at run time (the root `pnpm start` builds them first).
export default defineConfig(strataTsup({ entry: ['src/index.ts', 'src/start.ts'], format: ['esm'], dts: { entry: 'src/index.ts' }, splitting: true }));
