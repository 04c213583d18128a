/**
 * The handle of a schema step follows `engine` (core's own registrations; the adapters' are
 * checked through the built packages in test/types/engine-handles.test.ts). Type assertions are
 * checked by `tsc` in `pnpm run typecheck`: a handle that became `any` fails them.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineMigration, type HandleOf, type SchemaMigration } from '../src/index.js';
import type { MemoryShard } from '../src/testing/index.js';

describe('EngineHandles in core', () => {
  it('memory is a MemoryShard; an unregistered name is unknown', () => {
    const m = defineMigration({
      id: '0001-mem',
      engine: 'memory',
      up(shard) {
        expectTypeOf(shard).toEqualTypeOf<MemoryShard>();
        // @ts-expect-error a MemoryShard has no query(): fails if the handle were any
        shard.query('SELECT 1');
      },
    });
    expectTypeOf(m).toEqualTypeOf<SchemaMigration<MemoryShard>>();
    expectTypeOf<HandleOf<'no-such-engine'>>().toEqualTypeOf<unknown>();
    expectTypeOf<HandleOf<string>>().toEqualTypeOf<unknown>();
    defineMigration({
      id: '0001-other',
      engine: 'other',
      up(handle) {
        expectTypeOf(handle).toEqualTypeOf<unknown>();
      },
    });
    expect(m.engine).toBe('memory');
  });

  it('an explicit type argument wins, and a wrongly annotated handle is refused', () => {
    const m = defineMigration<{ tag: 1 }>({ id: '0001-x', engine: 'memory', up: (h) => void h.tag });
    expectTypeOf(m).toEqualTypeOf<SchemaMigration<{ tag: 1 }>>();
    // @ts-expect-error engine "memory" hands out a MemoryShard, not this
    defineMigration({ id: '0001-y', engine: 'memory', up: (h: { tag: 1 }) => void h.tag });
    expect(m.kind).toBe('schema');
  });
});
