/**
 * The one error type this package throws.
 *
 * A `TransformError` has a stable {@link TransformErrorCode}, names the transformer, the field and the
 * row's key (e.g. `{ message_id: 'm-1' }`), and nothing else about the row: it never carries the value
 * being transformed, except where a transformer documents that the value is a non-secret enum member
 * (an unknown message status, an unknown channel type). Secrets, settings values and credentials never
 * appear in its message, its properties, `toString()` or `toJSON()`.
 */

/** Stable error codes. Enum-like `as const` object plus a type of the same name. */
export const TransformErrorCode = {
  /** The row does not have the shape the transformer accepts (wrong type, duplicate key, …). */
  InvalidInput: 'TRANSFORM_INVALID_INPUT',
  /** A value is outside the set the transformer maps (an unknown status or channel type). */
  UnknownValue: 'TRANSFORM_UNKNOWN_VALUE',
  /** Converting would overwrite or merge data, so the result could not be inverted exactly. */
  Conflict: 'TRANSFORM_CONFLICT',
  /** `inverse` met a row it cannot restore exactly (e.g. a converted row edited afterwards). */
  NotInvertible: 'TRANSFORM_NOT_INVERTIBLE',
  /** A host-supplied `decrypt` / `encrypt` failed or returned something unusable. */
  CryptoFailed: 'TRANSFORM_CRYPTO_FAILED',
  /** A transformer factory was given invalid options. */
  InvalidConfig: 'TRANSFORM_INVALID_CONFIG',
  /** `registry.get(name)` for a name that was never registered. */
  UnknownTransformer: 'TRANSFORM_UNKNOWN_TRANSFORMER',
  /** `registry.register(t)` for a name that is already registered. */
  DuplicateTransformer: 'TRANSFORM_DUPLICATE_TRANSFORMER',
} as const;
export type TransformErrorCode = (typeof TransformErrorCode)[keyof typeof TransformErrorCode];

/** What identifies a row in an error: its key column(s), e.g. `{ tenant_id: 't-1', settings_key: 'locale' }`. */
export type RowKey = Readonly<Record<string, string | number>>;

export interface TransformErrorDetails {
  readonly code: TransformErrorCode;
  /** Name of the transformer that failed. */
  readonly transformer: string;
  /** What went wrong, without any row value (unless it is a documented non-secret enum value). */
  readonly reason: string;
  /** The field (column / document path) concerned, if any. */
  readonly field?: string;
  /** The row's key, if known. */
  readonly key?: RowKey;
  /** Only for non-secret enum values that were rejected (e.g. status `"BOUNCED"`). */
  readonly value?: string;
}

/**
 * Thrown by transformers and the registry. Check with {@link isTransformError}, which also recognises an
 * instance from another copy of this package (duplicate installs), rather than `instanceof`.
 */
export class TransformError extends Error {
  override readonly name = 'TransformError';
  readonly code: TransformErrorCode;
  readonly transformer: string;
  readonly field: string | undefined;
  readonly key: RowKey | undefined;
  readonly value: string | undefined;

  constructor(details: TransformErrorDetails) {
    super(formatMessage(details));
    this.code = details.code;
    this.transformer = details.transformer;
    this.field = details.field;
    this.key = details.key === undefined ? undefined : Object.freeze({ ...details.key });
    this.value = details.value;
  }

  /** A structured form for loggers; the same information as the message. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      transformer: this.transformer,
      field: this.field,
      key: this.key,
      value: this.value,
      message: this.message,
    };
  }
}

/** True for a {@link TransformError}, including one thrown by another installed copy of this package. */
export function isTransformError(error: unknown): error is TransformError {
  if (error instanceof TransformError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { name?: unknown; code?: unknown };
  return (
    candidate.name === 'TransformError' && typeof candidate.code === 'string' && candidate.code.startsWith('TRANSFORM_')
  );
}

function formatMessage(details: TransformErrorDetails): string {
  const where: string[] = [];
  if (details.field !== undefined) where.push(`field=${details.field}`);
  if (details.key !== undefined) {
    for (const [column, value] of Object.entries(details.key)) where.push(`${column}=${String(value)}`);
  }
  const suffix = where.length > 0 ? ` [${where.join(', ')}]` : '';
  return `${details.transformer}: ${details.reason}${suffix}`;
}
