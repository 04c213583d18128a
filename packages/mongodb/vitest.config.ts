import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'mongodb', include: ['test/**/*.test.ts'] },
});
