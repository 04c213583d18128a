/**
 * The transformer contract.
 *
 * A transformer is a named pair of pure functions over the platform's rows and documents. It matches the
 * data-migration contract of `@mcp/migrate-core` (`defineDataMigration({ transform, reverse })`) without
 * depending on it: `forward` is a `transform`, `inverse` is a `reverse`, and **`null` means "leave this row
 * unchanged"** (the batch engine then skips the write).
 *
 * ### Inverses
 * Where `inverse` exists it is *exact* for every input the transformer documents as valid: applying
 * `forward` to a row and then `inverse` to the result gives back a row deep-equal to the original. Because
 * a reverse migration runs `inverse` over **every** row (including rows `forward` left alone), the full law
 * each transformer is tested against is
 *
 * ```ts
 * const migrated = forward(x) ?? x;
 * const restored = inverse(migrated) ?? migrated;
 * // restored deep-equals x
 * ```
 *
 * A transformer that cannot meet this law has no `inverse`; its migration is then rolled back by the
 * SDK's backup step, which restores the original rows saved before each batch.
 *
 * The built-in transformers' functions never use `this`, so `transform: messageContent.forward` may be
 * passed detached, and they never mutate their input. Their row types are open (key fields optional, any
 * other field allowed), so `forward` / `inverse` are assignable to the SDK's `transform(row)` /
 * `reverse(row)` over `Record<string, unknown>` without a cast; what a transformer needs is checked at
 * run time and a missing field throws a `TransformError`.
 */

/** A value or a promise of it: `forward` / `inverse` may be async (e.g. they call a KMS). */
export type MaybePromise<T> = T | Promise<T>;

/** A named, possibly async transformer. `null` from either direction = leave the row unchanged. */
export interface Transformer<In, Out> {
  /** Unique within a registry; used in errors. */
  readonly name: string;
  /** The new row, or `null` to leave `input` unchanged. */
  forward(input: In): MaybePromise<Out | null>;
  /** The original row, or `null` to leave `output` unchanged. Absent when no exact inverse exists. */
  inverse?(output: Out): MaybePromise<In | null>;
}

/** A transformer whose functions return synchronously. */
export interface SyncTransformer<In, Out> extends Transformer<In, Out> {
  forward(input: In): Out | null;
  inverse?(output: Out): In | null;
}

/** A transformer that has an exact inverse. */
export interface InvertibleTransformer<In, Out> extends Transformer<In, Out> {
  inverse(output: Out): MaybePromise<In | null>;
}

/** A synchronous transformer that has an exact inverse. */
export interface InvertibleSyncTransformer<In, Out> extends SyncTransformer<In, Out> {
  inverse(output: Out): In | null;
}

/** Any transformer, as held by a registry. */
export type AnyTransformer = Transformer<any, any>;

/** True when `transformer` has an inverse. */
export function isInvertible<In, Out>(
  transformer: Transformer<In, Out>,
): transformer is InvertibleTransformer<In, Out> {
  return typeof transformer.inverse === 'function';
}
