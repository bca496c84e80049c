// `?raw` imports: the file's text, inlined at build time (vite in tests, an esbuild plugin in tsup).
declare module '*?raw' {
  const text: string;
  export default text;
}
