/**
 * `@mcp/migrate-core/testing/conformance`: the adapter conformance suite. The same cases run over
 * every engine adapter (memory, PostgreSQL on a real server and on pg-mem, MongoDB on a real
 * MongoDB-wire server), and over a third-party adapter: supply a {@link Harness} and the test
 * runner's functions, in a test file:
 *
 * ```ts
 * import { afterEach, describe, expect, it } from 'vitest';
 * import { runConformance } from '@mcp/migrate-core/testing/conformance';
 * await runConformance(myHarness, { runner: { describe, it, expect, afterEach } });
 * ```
 *
 * Cases about a capability (`compareAndSet`, `serverCopy`, `inspect`, `serverUpdate`, `batchWrite`,
 * `openScan`) read it on a connected shard of the harness (flag AND object, as core does) and are
 * skipped, with the reason in their name, where it is absent.
 */
import type { ShardAdapter } from '../../index.js';
import { batchWriteCases } from './batch-write.js';
import { compareAndSetCases } from './compare-and-set.js';
import { caseContext, type Case, type CapabilityFlag, type ConformanceOptions, type FixturePart } from './context.js';
import { dataCases } from './data.js';
import { keyRangeCases } from './key-ranges.js';
import { groupedCases } from './group-batches.js';
import type { Harness, TestRunner } from './harness.js';
import { ledgerCases } from './ledger.js';
import { lockCases } from './lock.js';
import { runCases } from './run.js';
import { scanCursorCases } from './scan-cursor.js';
import { serverCopyCases } from './server-copy.js';
import { serverUpdateCases } from './server-update.js';
import { verifyCases } from './verify.js';

export type {
  Assertion,
  Fixture,
  GroupedRow,
  GroupedTable,
  Harness,
  Matchers,
  NativeOps,
  SuiteRow,
  TestRunner,
} from './harness.js';
export type { Case, CaseContext, CapabilityFlag, ConformanceOptions, FixturePart } from './context.js';
export { CONCURRENT_TRY_ACQUIRE } from './lock.js';
export { CONCURRENT_RUNNERS } from './run.js';
export { VERIFICATION_ROWS } from './verify.js';

export interface RunConformanceOptions extends ConformanceOptions {
  /** The test runner's `describe`, `it`, `expect` and `afterEach` (vitest's). */
  readonly runner: TestRunner;
}

/** Where a data-store capability also needs its object on the shard's `DataStore`. */
const OBJECT_OF: Partial<Record<CapabilityFlag, (shard: ShardAdapter) => boolean>> = {
  compareAndSet: (s) => s.data.compareAndSet !== undefined,
  serverCopy: (s) => s.data.serverCopy !== undefined,
  inspect: (s) => typeof s.data.inspect === 'function',
  serverUpdate: (s) => s.data.serverUpdate !== undefined,
  batchWrite: (s) => s.data.batchWrite !== undefined,
  openScan: (s) => typeof s.data.openScan === 'function',
};

/**
 * The capabilities a connected shard of the harness has (its flag, and the object where one is
 * needed), and the optional fixture parts the harness supplies.
 */
async function probeCapabilities(harness: Harness): Promise<ReadonlySet<CapabilityFlag | FixturePart>> {
  const fx = await harness.setup(1);
  const engine = fx.engine();
  try {
    const shard = engine.shard(fx.shardIds[0]!);
    await shard.connect();
    const flags = Object.entries(shard.capabilities) as [CapabilityFlag, unknown][];
    return new Set<CapabilityFlag | FixturePart>([
      ...flags.filter(([flag, on]) => on === true && (OBJECT_OF[flag]?.(shard) ?? true)).map(([flag]) => flag),
      ...(fx.grouped ? (['grouped'] as const) : []),
    ]);
  } finally {
    await engine.close();
    await fx.teardown();
  }
}

/** Why `kase` does not run on a shard with `has`, or `undefined` when it does. */
function capabilityReason(kase: Case, has: ReadonlySet<CapabilityFlag | FixturePart>): string | undefined {
  const part = kase.fixture?.find((p) => !has.has(p));
  if (part) return `the harness's fixture has no "${part}" table`;
  const absent = kase.requires?.find((flag) => !has.has(flag));
  if (absent) return `the shard has no ${absent} capability`;
  const present = kase.without?.find((flag) => has.has(flag));
  if (present) return `a case for shards without ${present}, and this shard has it`;
  return undefined;
}

/** Every case of the suite, in order. */
export function conformanceCases(options: ConformanceOptions = {}): readonly Case[] {
  return [
    ...ledgerCases,
    ...lockCases,
    ...runCases,
    ...dataCases,
    ...keyRangeCases,
    ...scanCursorCases,
    ...groupedCases,
    ...compareAndSetCases,
    ...serverCopyCases,
    ...serverUpdateCases,
    ...batchWriteCases,
    ...verifyCases(options),
  ];
}

/**
 * Registers the suite for `harness` in a `describe` block. Every case is skipped when the
 * harness's service is not available (or `options.gate` says so), a case named in `options.skip`
 * with its reason, and a case about a capability where the shard has it not.
 */
export async function runConformance(harness: Harness, options: RunConformanceOptions): Promise<void> {
  const { runner } = options;
  const available = await harness.available();
  const gate = options.gate ?? ((check) => check.available === true);
  const enabled = gate({ name: harness.name, available });
  const has = enabled ? await probeCapabilities(harness) : new Set<CapabilityFlag | FixturePart>();
  const cases = conformanceCases(options).map((kase) => {
    const reason = options.skip?.[kase.name] ?? (enabled ? capabilityReason(kase, has) : undefined);
    if (enabled && reason) options.onSkip?.({ name: kase.name, reason });
    return { kase, reason };
  });
  runner.describe(`conformance: ${harness.name}`, () => {
    const ctx = caseContext(harness, (actual, message) => runner.expect(actual, message));
    runner.afterEach(() => ctx.cleanup());
    for (const { kase, reason } of cases) {
      const run = () => kase.run(ctx);
      if (!enabled || reason) runner.it.skip(reason ? `${kase.name} (skipped: ${reason})` : kase.name, run);
      else runner.it(kase.name, run, (kase.timeoutMs ?? 60_000) * (options.timeoutScale ?? 1));
    }
  });
}
