import type { Options } from 'tsup';
/** tsup's `Options` (what `defineConfig` takes), named here so a config's default export is portable. */
export interface StrataTsupOptions extends Options {}
/**
 * The workspace tsup options: entry `src/index.ts`, ESM + CJS, d.ts, source maps, clean, target
 * node20. `overrides` are merged shallowly (a key given replaces the preset's value as a whole).
 */
export declare function strataTsup(overrides?: Options): StrataTsupOptions;
