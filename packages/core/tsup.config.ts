import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'engine/index': 'src/engine/index.ts',
    'testing/index': 'src/testing/index.ts',
    'testing/conformance/index': 'src/testing/conformance/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // p-queue and p-retry ship ESM only; bundling them keeps the CJS build loadable everywhere.
  noExternal: ['p-queue', 'p-retry'],
});
