import ts from 'typescript';
type Plugin = NonNullable<NonNullable<NonNullable<Parameters<typeof strataVitest>[0]>['overrides']>['plugins']>[number];
import { strataVitest } from '@stratacache/vitest-config';

/**
 * Vite 8 transforms TypeScript with oxc, which only lowers legacy (experimentalDecorators)
 * decorators. Test files that use TS 5 standard decorators are lowered by the TypeScript compiler
 * first (only files that contain a decorator; everything else keeps the fast path).
 */
const standardDecorators = {
  name: 'stratacache:ts5-standard-decorators',
  enforce: 'pre' as const,
  transform(code: string, id: string) {
    const file = id.split('?')[0] ?? id;
    if (!/\.[cm]?ts$/.test(file) || file.includes('/node_modules/') || !/^\s*@[A-Za-z_$][\w$]*(?:\(|\s*$)/m.test(code)) return null;
    const out = ts.transpileModule(code, {
      fileName: file,
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        sourceMap: true,
        experimentalDecorators: false,
        useDefineForClassFields: true,
      },
    });
    return { code: out.outputText, map: out.sourceMapText ?? null };
  },
};

export default strataVitest({ redis: true, overrides: { plugins: [standardDecorators as Plugin] } });
