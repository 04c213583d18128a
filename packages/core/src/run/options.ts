/**
 * Options of the migrator's calls (`run`, `rollback`, `verify`, `status`, `plan`),
 * validated with zod like `createMigrator`'s: a value outside its schema is a `MIGRATE_CONFIG`
 * error naming the call and the field, thrown before anything connects, locks or applies. A typo
 * must never change what a call does (`run({ mode: 'verfiy' })` used to apply).
 */
import { z } from 'zod';
import { DefinitionError, ErrorCode } from '../errors/errors.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Duck-typed, so a signal from another realm or a polyfill passes. */
const signal = z
  .custom<AbortSignal>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      typeof (v as AbortSignal).aborted === 'boolean' &&
      typeof (v as AbortSignal).addEventListener === 'function',
    'must be an AbortSignal',
  )
  .optional();

/** The schemas the calls' options are validated with (the reference page prints their bounds). */
export const callSchemas = {
  run: z.strictObject({
    mode: z.enum(['apply', 'wait', 'verify']).optional(),
    signal,
    timeoutMs: z.number().int('must be an integer').positive('must be positive').optional(),
  }),
  rollback: z.strictObject({ signal }),
  rollbackTarget: z
    .strictObject({
      steps: z.number().int('must be an integer').min(1, 'must be at least 1').optional(),
      to: z.string().regex(ID, 'must be a migration id').optional(),
    })
    .refine((t) => t.steps === undefined || t.to === undefined, {
      message: 'give "steps" or "to", not both',
      path: ['steps'],
    }),
  verify: z.strictObject({ signal, data: z.boolean().optional() }),
  status: z.strictObject({ signal }),
  plan: z.strictObject({ signal }),
  repair: z.strictObject({ signal, forgetMissing: z.boolean().optional(), resetCheckpoints: z.boolean().optional() }),
  purgeBackups: z.strictObject({
    signal,
    olderThanMs: z.number().int('must be an integer').min(0, 'must be at least 0').optional(),
    migrationIds: z.array(z.string().regex(ID, 'must be a migration id')).optional(),
  }),
  purgePreserved: z.strictObject({
    signal,
    migrationIds: z.array(z.string().regex(ID, 'must be a migration id')).optional(),
  }),
} as const;

export type OptionsOf = keyof typeof callSchemas;

/**
 * Throws `MIGRATE_CONFIG` naming `call` and the field unless `options` (may be `undefined`: the
 * call's defaults) fits the call's schema.
 */
export function validateOptions(call: OptionsOf, options: unknown): void {
  if (options === undefined) return;
  const what = call === 'rollbackTarget' ? 'rollback() target' : `${call}() options`;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new DefinitionError(
      `${what}: expected an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`,
      { code: ErrorCode.Config, field: '(root)' },
    );
  }
  const result = callSchemas[call].safeParse(options);
  if (result.success) return;
  const issue = result.error.issues[0]!;
  const field = issue.path.length
    ? issue.path.join('.')
    : issue.code === 'unrecognized_keys'
      ? issue.keys.join(', ')
      : '(root)';
  const detail =
    issue.code === 'unrecognized_keys'
      ? `unknown option(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`
      : issue.message;
  throw new DefinitionError(`${what}: field "${field}": ${detail}`, { code: ErrorCode.Config, field });
}

export interface RunOptions {
  /**
   * `apply`: the run-lock holder applies, the others wait for it and return.
   * `wait`: never apply; wait until another runner has applied everything (or `timeoutMs`).
   * `verify`: fail fast with `MIGRATE_PENDING` if anything is pending, drifted or failed.
   * Default `'apply'`.
   */
  readonly mode?: 'apply' | 'wait' | 'verify';
  /** Aborts the run: the step running then is reported `failed` with `MIGRATE_ABORTED`. */
  readonly signal?: AbortSignal;
  /**
   * Gives up (abort) after this long. Default: no limit. A step still running then is reported
   * `failed` with `MIGRATE_TIMEOUT`, never `applied`, even if it ignores `ctx.signal` and finishes later.
   */
  readonly timeoutMs?: number;
}

/** `signal`, also aborted after `timeoutMs` when given. */
export function withTimeout(signal: AbortSignal | undefined, timeoutMs: number | undefined): AbortSignal | undefined {
  if (timeoutMs === undefined) return signal;
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}
