/**
 * `tenantLimitsDefaults(defaults)`: fills missing or `NULL` limits of a `tenant_limits` row with defaults.
 *
 * ### No inverse
 * After the fill, a limit that was `NULL` and one that was already equal to the default look the same, so
 * there is no exact inverse without recording which columns were filled — and recording it would need a
 * new column on `tenant_limits`, i.e. a schema migration for a data fix. So this transformer has no
 * `inverse`: its data migration has no `reverse`, and the SDK rolls it back from the original rows its
 * backup step saved before each batch, which is exact.
 *
 * Only the limits named in `defaults` are filled; existing values (including `0`) are never changed, and
 * `forward` returns `null` when nothing was missing (so a re-run writes nothing). Defaults are checked when
 * the transformer is created: each must be a non-negative safe integer, a `bigint` in `0..2^63-1`, or the
 * canonical decimal text of one (`node-postgres` returns `bigint` columns as text).
 */
import { TransformError, TransformErrorCode } from '../errors.js';
import type { Id } from '../internal/key-value-rows.js';
import { describeType, isPlainObject } from '../internal/plain.js';
import type { SyncTransformer } from '../transformer.js';

/** A limit as the drivers return it: `integer` as a number, `bigint` as canonical text (or a bigint). */
export type LimitValue = number | string | bigint;

export const TENANT_LIMIT_COLUMNS = ['message_limit', 'channel_limit', 'storage_limit'] as const;
export type TenantLimitColumn = (typeof TENANT_LIMIT_COLUMNS)[number];

/**
 * A `tenant_limits` row. Other columns pass through untouched. Fields are optional so that `forward`
 * accepts the SDK's generic row (`transform(row: Record<string, unknown>)`) without a cast.
 */
export interface TenantLimitsRow {
  tenant_id?: Id;
  message_limit?: LimitValue | null;
  channel_limit?: LimitValue | null;
  storage_limit?: LimitValue | null;
  [column: string]: unknown;
}

/** The default for each limit to fill; limits not named here are left as they are. */
export type TenantLimitDefaults = Partial<Readonly<Record<TenantLimitColumn, LimitValue>>>;

const NAME = 'tenantLimitsDefaults';

/**
 * Fill missing/`NULL` `message_limit`, `channel_limit`, `storage_limit` with `defaults`. No inverse.
 *
 * ### Examples
 * ```ts
 * const fill = tenantLimitsDefaults({ message_limit: 10_000, channel_limit: 5 });
 * fill.forward({ tenant_id: 't1', message_limit: null, channel_limit: 3, storage_limit: null });
 * // → { tenant_id: 't1', message_limit: 10000, channel_limit: 3, storage_limit: null }
 * ```
 */
export function tenantLimitsDefaults(defaults: TenantLimitDefaults): SyncTransformer<TenantLimitsRow, TenantLimitsRow> {
  const fills = validateDefaults(defaults);
  return {
    name: NAME,
    forward: (row) => {
      if (!isPlainObject(row)) {
        throw new TransformError({
          code: TransformErrorCode.InvalidInput,
          transformer: NAME,
          reason: `expected a tenant_limits row, got ${describeType(row)}`,
        });
      }
      let result: TenantLimitsRow | null = null;
      for (const [column, value] of fills) {
        if (row[column] === null || row[column] === undefined) {
          result ??= { ...row };
          result[column] = value;
        }
      }
      return result;
    },
  };
}

function validateDefaults(defaults: unknown): Array<[TenantLimitColumn, LimitValue]> {
  const fail = (reason: string, field?: string): never => {
    throw new TransformError({ code: TransformErrorCode.InvalidConfig, transformer: NAME, reason, field });
  };
  if (!isPlainObject(defaults)) return fail(`defaults must be an object, got ${describeType(defaults)}`);
  const allowed = new Set<string>(TENANT_LIMIT_COLUMNS);
  for (const column of Object.keys(defaults)) {
    if (!allowed.has(column)) fail(`unknown limit "${column}" (known: ${TENANT_LIMIT_COLUMNS.join(', ')})`, column);
  }
  const fills: Array<[TenantLimitColumn, LimitValue]> = [];
  for (const column of TENANT_LIMIT_COLUMNS) {
    const value = defaults[column];
    if (value === undefined) continue;
    if (!isLimit(value)) fail(`default for "${column}" must be a non-negative integer`, column);
    fills.push([column, value as LimitValue]);
  }
  if (fills.length === 0) fail('defaults must name at least one limit');
  return fills;
}

/** PostgreSQL's largest `bigint`. */
const MAX_BIGINT = 9223372036854775807n;

function isLimit(value: unknown): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 && !Object.is(value, -0);
  if (typeof value === 'bigint') return value >= 0n && value <= MAX_BIGINT;
  if (typeof value === 'string') return /^(0|[1-9][0-9]*)$/.test(value) && BigInt(value) <= MAX_BIGINT;
  return false;
}
