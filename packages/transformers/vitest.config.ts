import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'transformers', include: ['test/**/*.test.ts'] },
});
