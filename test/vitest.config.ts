import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'conformance',
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'docs/.scratch/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
