/**
 * Awaited hooks: host functions the migrator waits for at four moments of a run. Unlike events
 * (eventemitter3, which only observe and are never awaited), a hook can veto or delay what comes next:
 *
 * - **veto**: the hook throws. Whatever it throws is the reason; the migrator wraps it as a
 *   {@link VetoError} (`MIGRATE_VETOED`, the thrown error as `cause`). There is no other way to veto:
 *   a hook's return value is ignored.
 * - **delay**: the hook is async and takes its time (drains a queue, waits for a quiet hour). It is
 *   given the run's `signal`; when that aborts (`run({ signal, timeoutMs })`) the migrator stops waiting
 *   for the hook and the step ends `MIGRATE_ABORTED` / `MIGRATE_TIMEOUT`, not vetoed.
 *
 * `afterStep` cannot veto (the step is done): a throw there is `MIGRATE_HOOK_FAILED`, reported on the
 * step and failing the run, but the applied step is not undone.
 */
import type { Direction, EngineName, KeyValue } from '../engine/spi.js';
import { ErrorCode, errorMessage, MigrateError } from '../errors/errors.js';
import type { Migration } from '../definition/migration.js';
import type { Plan } from '../plan/planner.js';
import type { StepReport } from '../run/report.js';

interface HookBase {
  readonly runId: string;
  /**
   * The run's signal (never aborted when `run()` was given none). A hook that waits should stop
   * waiting when it aborts; the migrator stops waiting for it anyway.
   */
  readonly signal: AbortSignal;
}

/** Once per `run()` that has something to apply, under the run lock, after the plan and its preflight checks. */
export interface BeforeRunContext extends HookBase {
  readonly plan: Plan;
}

/** One migration on one shard, in one direction (`down` in `rollback()`). */
export interface StepHookContext extends HookBase {
  readonly migrationId: string;
  readonly shardId: string;
  readonly engine: EngineName;
  readonly direction: Direction;
  readonly kind: Migration['kind'];
}

export interface AfterStepContext extends StepHookContext {
  /** The step's entry of the report: `applied`, `skipped` (nothing to do) or `failed` with its error. */
  readonly outcome: StepReport;
}

/** Before each batch of a data migration (in either direction). */
export interface BeforeBatchContext extends HookBase {
  readonly migrationId: string;
  readonly shardId: string;
  readonly direction: Direction;
  /** Key of the last row done (the checkpoint), `undefined` before the first batch. */
  readonly after: KeyValue | undefined;
  /** Rows this batch will read at most (adaptive throttling may change it between batches). */
  readonly batchSize: number;
}

type Hook<C> = (ctx: C) => unknown;

export interface MigratorHooks {
  /** Throw to refuse the whole run: `run()` rejects with `MIGRATE_VETOED` and nothing is applied on any shard. */
  readonly beforeRun?: Hook<BeforeRunContext> | undefined;
  /**
   * Throw to refuse this step: it is reported `failed` (`MIGRATE_VETOED`) before anything is written
   * on the shard, its ledger left as it was, so a later run applies it; `onFailure` applies as to any failure.
   */
  readonly beforeStep?: Hook<StepHookContext> | undefined;
  /**
   * After every step that `beforeStep` let start, once its ledger record is written. A throw is
   * reported on the step (`hookError`, `MIGRATE_HOOK_FAILED`) and fails the run, but never undoes the step.
   */
  readonly afterStep?: Hook<AfterStepContext> | undefined;
  /**
   * Delay to apply back-pressure; throw to stop the step at its last checkpoint: it is reported and
   * recorded `failed` (`MIGRATE_VETOED`), and the next run resumes after that checkpoint.
   */
  readonly beforeBatch?: Hook<BeforeBatchContext> | undefined;
}

export interface HookContexts {
  beforeRun: BeforeRunContext;
  beforeStep: StepHookContext;
  afterStep: AfterStepContext;
  beforeBatch: BeforeBatchContext;
}
export type HookName = keyof HookContexts;

/** A hook refused a run, a step or a batch (`MIGRATE_VETOED`). `reason` is the message of what it threw. */
export class VetoError extends MigrateError {
  readonly hook: HookName;
  readonly reason: string;
  constructor(
    hook: HookName,
    reason: string,
    message: string,
    options: { migrationId?: string | undefined; shardId?: string | undefined; cause?: unknown } = {},
  ) {
    super(ErrorCode.Vetoed, message, { ...options, field: `hooks.${hook}` });
    this.hook = hook;
    this.reason = reason;
  }
}

/**
 * Awaits `hooks[name](context)`, if the host gave that hook. Rejects with a {@link VetoError}
 * (`afterStep`: `MIGRATE_HOOK_FAILED`) when the hook throws, or with `MIGRATE_ABORTED` /
 * `MIGRATE_TIMEOUT` as soon as `context.signal` aborts while it runs.
 */
export async function runHook<K extends HookName>(
  hooks: MigratorHooks | undefined,
  name: K,
  context: HookContexts[K],
): Promise<void> {
  const hook = hooks?.[name] as Hook<HookContexts[K]> | undefined;
  if (!hook) return;
  const { signal } = context;
  if (signal.aborted) throw abandoned(name, context, signal);
  try {
    await raceSignal(
      Promise.resolve().then(() => hook(context)),
      signal,
    );
  } catch (error) {
    if (signal.aborted) throw abandoned(name, context, signal);
    throw hookFailure(name, context, error);
  }
}

function where(context: HookContexts[HookName]): { migrationId?: string; shardId?: string; text: string } {
  if (!('migrationId' in context)) return { text: 'the run' };
  return {
    migrationId: context.migrationId,
    shardId: context.shardId,
    text: `"${context.migrationId}" on shard "${context.shardId}"`,
  };
}

function hookFailure(name: HookName, context: HookContexts[HookName], error: unknown): MigrateError {
  const at = where(context);
  const ids = { migrationId: at.migrationId, shardId: at.shardId, cause: error };
  const reason = errorMessage(error);
  if (name === 'afterStep') {
    return new MigrateError(
      ErrorCode.HookFailed,
      `afterStep hook threw after ${at.text} (the step stays ${(context as AfterStepContext).outcome.status}; nothing was undone): ${reason}`,
      { ...ids, field: 'hooks.afterStep' },
    );
  }
  if (error instanceof VetoError && error.hook === name) return error;
  const after =
    name === 'beforeBatch'
      ? ` after key ${JSON.stringify((context as BeforeBatchContext).after ?? null)}; the step stopped at its last checkpoint and the next run resumes there`
      : '';
  const consequence =
    name === 'beforeRun'
      ? '; nothing was applied'
      : name === 'beforeStep'
        ? '; nothing was written on the shard'
        : after;
  return new VetoError(name, reason, `${name} hook vetoed ${at.text}: ${reason}${consequence}`, ids);
}

function abandoned(name: HookName, context: HookContexts[HookName], signal: AbortSignal): MigrateError {
  const reason: unknown = signal.reason;
  const timedOut = (reason as { name?: unknown } | null)?.name === 'TimeoutError';
  const at = where(context);
  const why = timedOut
    ? 'timeoutMs passed'
    : `aborted: ${reason instanceof Error ? reason.message : String(reason ?? 'signal aborted')}`;
  return new MigrateError(
    timedOut ? ErrorCode.Timeout : ErrorCode.Aborted,
    `${name} hook of ${at.text} was abandoned: the run was ${why}`,
    {
      migrationId: at.migrationId,
      shardId: at.shardId,
      cause: reason,
    },
  );
}

/** `work`, or a rejection as soon as `signal` aborts (the work itself is left to finish on its own). */
function raceSignal<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
