/**
 * `messageStatus`: the legacy upper-case `messages.status` values ⇄ the new lower-case enum.
 *
 * | legacy      | new         |
 * |-------------|-------------|
 * | `SENT`      | `sent`      |
 * | `DELIVERED` | `delivered` |
 * | `READ`      | `read`      |
 * | `FAILED`    | `failed`    |
 * | `QUEUED`    | `pending`   |
 *
 * The mapping is a bijection between two disjoint vocabularies, so a value says by itself which form it
 * is in and no marker field is needed: `forward` maps legacy values and leaves new ones alone (`null`, so a
 * re-run writes nothing); `inverse` maps new values back and leaves legacy ones alone. A missing or `null`
 * status is left alone both ways.
 *
 * Law (tested as a property): for every document whose status is legacy, missing or `null`,
 * `inverse(forward(doc) ?? doc) ?? (forward(doc) ?? doc)` deep-equals `doc`. Documents that *already* held
 * a new value before the migration come back from `inverse` in legacy form — deliberately: `inverse` also
 * downgrades rows new writers created after the migration, which is what old readers need after a
 * rollback. If such a collection must come back byte-for-byte, roll back from the SDK's backups instead.
 *
 * Unknown values (`'BOUNCED'`, `'Sent'`) are rejected by default with a `TransformError`
 * (`TRANSFORM_UNKNOWN_VALUE`, carrying the value, which is not secret, and the message key), and a status
 * that is not a string (`42`) with `TRANSFORM_INVALID_INPUT`; with `{ unknown: 'leave' }` both are left
 * alone in both directions (still exact).
 */
import { TransformError, TransformErrorCode } from '../errors.js';
import { describeType, hasOwn, isPlainObject } from '../internal/plain.js';
import { rowKey } from '../internal/row-key.js';
import type { InvertibleSyncTransformer } from '../transformer.js';
import type { MessageDocument } from './message-document.js';
import { MESSAGE_KEY_COLUMNS } from './message-document.js';

/** Legacy status → new status. */
export const LEGACY_MESSAGE_STATUS = {
  SENT: 'sent',
  DELIVERED: 'delivered',
  READ: 'read',
  FAILED: 'failed',
  QUEUED: 'pending',
} as const;

export type LegacyMessageStatus = keyof typeof LEGACY_MESSAGE_STATUS;
export type MessageStatus = (typeof LEGACY_MESSAGE_STATUS)[LegacyMessageStatus];

/** New status → legacy status (the inverse table). */
export const MESSAGE_STATUS_TO_LEGACY = Object.freeze(
  Object.fromEntries(Object.entries(LEGACY_MESSAGE_STATUS).map(([legacy, status]) => [status, legacy])),
) as { readonly [S in MessageStatus]: LegacyMessageStatus };

export const LEGACY_MESSAGE_STATUSES = Object.freeze(
  Object.keys(LEGACY_MESSAGE_STATUS),
) as readonly LegacyMessageStatus[];
export const MESSAGE_STATUSES = Object.freeze(Object.values(LEGACY_MESSAGE_STATUS)) as readonly MessageStatus[];

export interface MessageStatusOptions {
  /**
   * A status that is in neither vocabulary: throw `TRANSFORM_UNKNOWN_VALUE` (`'throw'`) or leave the
   * document alone (`'leave'`). Default is `'throw'`.
   */
  readonly unknown?: 'throw' | 'leave';
}

const NAME = 'messageStatus';
/** Longest status text quoted in an error; longer values are cut (they are not enum members anyway). */
const MAX_QUOTED = 64;

/** Create a `messageStatus` transformer with non-default options. */
export function createMessageStatus(
  options: MessageStatusOptions = {},
): InvertibleSyncTransformer<MessageDocument, MessageDocument> {
  const onUnknown = options.unknown ?? 'throw';
  if (onUnknown !== 'throw' && onUnknown !== 'leave') {
    throw new TransformError({
      code: TransformErrorCode.InvalidConfig,
      transformer: NAME,
      reason: 'option "unknown" must be "throw" or "leave"',
      field: 'unknown',
    });
  }

  const map = (doc: MessageDocument, to: Readonly<Record<string, string>>, from: Readonly<Record<string, string>>) => {
    if (!isPlainObject(doc)) {
      throw new TransformError({
        code: TransformErrorCode.InvalidInput,
        transformer: NAME,
        reason: `expected a message document, got ${describeType(doc)}`,
      });
    }
    const status: unknown = doc.status;
    if (status === null || status === undefined) return null;
    if (typeof status === 'string') {
      if (hasOwn(to, status)) return { ...doc, status: to[status] };
      if (hasOwn(from, status)) return null;
    }
    if (onUnknown === 'leave') return null;
    throw unknownStatus(doc, status);
  };

  return {
    name: NAME,
    forward: (doc) => map(doc, LEGACY_MESSAGE_STATUS, MESSAGE_STATUS_TO_LEGACY),
    inverse: (doc) => map(doc, MESSAGE_STATUS_TO_LEGACY, LEGACY_MESSAGE_STATUS),
  };
}

/**
 * `messages.status`: `'SENT' | 'DELIVERED' | 'READ' | 'FAILED' | 'QUEUED'` ⇄
 * `'sent' | 'delivered' | 'read' | 'failed' | 'pending'`; unknown values throw `TRANSFORM_UNKNOWN_VALUE`.
 */
export const messageStatus = createMessageStatus();

function unknownStatus(doc: MessageDocument, status: unknown): TransformError {
  const key = rowKey(doc, MESSAGE_KEY_COLUMNS);
  if (typeof status !== 'string') {
    return new TransformError({
      code: TransformErrorCode.InvalidInput,
      transformer: NAME,
      reason: `status must be a string, got ${describeType(status)}`,
      field: 'status',
      key,
    });
  }
  const quoted = status.length > MAX_QUOTED ? `${status.slice(0, MAX_QUOTED)}…` : status;
  return new TransformError({
    code: TransformErrorCode.UnknownValue,
    transformer: NAME,
    reason: `unknown status "${quoted}" (known: ${[...LEGACY_MESSAGE_STATUSES, ...MESSAGE_STATUSES].join(', ')})`,
    field: 'status',
    key,
    value: quoted,
  });
}
