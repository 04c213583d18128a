/**
 * What every conformance case works with: the harness's fixture once set up, fresh engines over
 * its shards (closed after the case), a migrator over them, and the suite's small test migrations.
 */
import {
  createMigrator,
  defineMigration,
  type EngineAdapter,
  type EngineCapabilities,
  type Migration,
  type Migrator,
  type MigratorConfig,
} from '../../index.js';
import type { Assertion, Fixture, Harness } from './harness.js';

/** A capability flag a case may need (read on a connected shard: flag AND object, as core does). */
export type CapabilityFlag = keyof EngineCapabilities;

export interface ConformanceOptions {
  /** Cases to skip by name, with the reason (drizzle's skipTests pattern). */
  readonly skip?: Readonly<Record<string, string>>;
  /** Multiplies every case's timeout, for servers that are correct but slow (FerretDB). Default 1. */
  readonly timeoutScale?: number;
  /**
   * Rows per shard of the verification case (default `VERIFICATION_ROWS`). A smaller table only
   * with a reason, which the case's name then shows (FerretDB: no filter pushdown).
   */
  readonly verificationRows?: { readonly rows: number; readonly reason: string };
  /**
   * Whether to run the cases when the harness's service is or is not available (`available` is
   * `true` or the reason). Default: run only when available, else skip every case. A CI gate can
   * throw here instead, so that an absent server fails the run.
   */
  readonly gate?: (check: { readonly name: string; readonly available: true | string }) => boolean;
  /**
   * Told of each case skipped by `skip` or for a capability, with the reason (e.g. to list it in a
   * summary at the end of the run). Not called when the whole suite is skipped by `gate`.
   */
  readonly onSkip?: (skipped: { readonly name: string; readonly reason: string }) => void;
}

/** One case: its name (a sentence), its body, and what it needs. */
export interface Case {
  readonly name: string;
  readonly run: (c: CaseContext) => Promise<void>;
  /** Default 60 s (scaled by `timeoutScale`). */
  readonly timeoutMs?: number;
  /** Runs only where the shard has every one of these capabilities; skipped with the reason otherwise. */
  readonly requires?: readonly CapabilityFlag[];
  /** Runs only where the shard has NONE of these capabilities (a case about their absence). */
  readonly without?: readonly CapabilityFlag[];
  /** Optional fixture parts the case needs (`grouped`); skipped with the reason where the harness has none. */
  readonly fixture?: readonly FixturePart[];
}

/** An optional part of a harness's fixture that some cases need. */
export type FixturePart = 'grouped';

export interface CaseContext {
  readonly expect: (actual: unknown, message?: string) => Assertion;
  /** The fixture of the last {@link CaseContext.setup} (throws before it). */
  readonly fx: Fixture;
  /** Fresh shards (`shards` of them, default 2), torn down after the case. */
  setup(shards?: number): Promise<Fixture>;
  /** A new adapter over the fixture's shards (another runner), closed after the case. */
  engine(): EngineAdapter;
  /** A migrator on a new adapter (or on `engine`), with the suite's lock and retry settings. */
  migrator(migrations: readonly Migration[], extra?: Partial<MigratorConfig>, engine?: EngineAdapter): Migrator;
  /** A migration that inserts its own id into `mig_log` (up) or `<id>:down` (down). */
  logged(id: string, extra?: Partial<Parameters<typeof defineMigration>[0]>): Migration;
  /** The migration that creates `mig_log`. */
  base(): Migration[];
  /** Names in `mig_log` on a shard, sorted. */
  logRows(shardId: string): Promise<string[]>;
}

/** A stable small integer id for a name (the suite's log table has integer keys). */
export function hashId(text: string): number {
  let h = 0;
  for (const ch of text) h = (Math.imul(h, 31) + ch.codePointAt(0)!) | 0;
  return Math.abs(h);
}

/** A context for one harness: `cleanup()` closes the case's engines and tears its fixture down. */
export function caseContext(
  harness: Harness,
  expect: CaseContext['expect'],
): CaseContext & { cleanup(): Promise<void> } {
  let fixture: Fixture | undefined;
  const engines: EngineAdapter[] = [];
  const fx = () => {
    if (!fixture) throw new Error('conformance: the case used the fixture before setup()');
    return fixture;
  };
  const engine = () => {
    const e = fx().engine();
    engines.push(e);
    return e;
  };
  const logged: CaseContext['logged'] = (id, extra = {}) =>
    defineMigration({
      id,
      engine: fx().engineName,
      up: async (h) =>
        fx().ops.insert(h, 'mig_log', { id: hashId(`${id}:${Math.random()}`), name: id, n: 1, note: null }),
      down: async (h) =>
        fx().ops.insert(h, 'mig_log', {
          id: hashId(`${id}:down:${Date.now()}:${Math.random()}`),
          name: `${id}:down`,
          n: 1,
          note: null,
        }),
      ...extra,
    });
  return {
    expect,
    get fx() {
      return fx();
    },
    async setup(shards = 2) {
      fixture = await harness.setup(shards);
      return fixture;
    },
    engine,
    migrator: (migrations, extra = {}, on) =>
      createMigrator({
        engines: { [fx().engineName]: on ?? engine() },
        migrations,
        lock: { ttlMs: 5_000, waitMs: 30_000 },
        retry: { retries: 2, minTimeoutMs: 5, maxTimeoutMs: 20 },
        ...extra,
      }),
    logged,
    base: () => [
      defineMigration({
        id: '0000-create-log',
        engine: fx().engineName,
        up: async (h) => fx().ops.createTable(h, 'mig_log'),
        down: async (h) => fx().ops.dropTable(h, 'mig_log'),
      }),
    ],
    logRows: async (shardId) => (await fx().rows(shardId, 'mig_log')).map((r) => r.name!).sort(),
    async cleanup() {
      await Promise.allSettled(engines.splice(0).map((e) => e.close()));
      const f = fixture;
      fixture = undefined;
      await f?.teardown();
    },
  };
}
