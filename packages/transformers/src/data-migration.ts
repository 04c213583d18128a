/**
 * Transformers as the functions of a data migration of `@mcp/migrate-core`, spread into
 * `defineDataMigration({ … })` without a cast (this package still does not depend on core: the
 * SDK's shapes are restated here, and structural typing does the rest).
 *
 * - {@link rowTransform}: a row transformer → `{ transform, reverse }` (`reverse` only when it has
 *   an exact inverse).
 * - {@link groupedTransform}: a key/value pack (`tenantSettings`, `channelConfig`), which reads ALL
 *   the rows of one owner at once, plus an edit of its typed object → `{ groupBy, transformGroup,
 *   reverseGroup }` for a grouped data migration (a batch never splits a group). `transformGroup`
 *   runs pack `forward` → edit → pack `inverse` and gives back the group's rows; `reverseGroup`
 *   (only when the edit has an `inverse`) runs the edit's inverse the same way.
 *
 * A grouped migration changes the group's rows in place: an edit may change the values of the keys
 * an owner has, not add or remove keys (the SDK refuses a group whose rows come back with other
 * keys, naming the group). Table columns the pack does not know are kept as they are.
 */
import type { Id } from './internal/key-value-rows.js';
import type { InvertibleSyncTransformer, InvertibleTransformer, MaybePromise, Transformer } from './transformer.js';

/** A row or document, as the SDK hands it to a migration. */
export type MigrationRow = Record<string, unknown>;

/** What the SDK passes a data migration's functions besides the row (a subset of core's `TransformContext`). */
export interface RowMigrationContext {
  readonly migrationId: string;
  readonly shard: { readonly id: string };
}

/** What the SDK passes a grouped migration's functions besides the rows (core's `GroupTransformContext`). */
export interface GroupMigrationContext extends RowMigrationContext {
  /** The group's `groupBy` values, e.g. `{ tenant_id: 't1' }`. */
  readonly group: Readonly<MigrationRow>;
}

/** A data migration's `transform` / `reverse`. */
export type RowMigrationFn = (row: MigrationRow, ctx: RowMigrationContext) => MaybePromise<MigrationRow | null>;

/** A grouped data migration's `transformGroup` / `reverseGroup`: a group's rows to the same rows changed. */
export type GroupMigrationFn = (
  rows: readonly MigrationRow[],
  ctx: GroupMigrationContext,
) => Promise<MigrationRow[] | null>;

/** `rowTransform(t)` of a transformer with an exact inverse. */
export interface InvertibleRowTransform {
  readonly transform: RowMigrationFn;
  readonly reverse: RowMigrationFn;
}

/** `rowTransform(t)` of a transformer without one: rollback restores the SDK's backup. */
export interface RowTransform {
  readonly transform: RowMigrationFn;
  readonly reverse?: undefined;
}

/**
 * A row transformer as `{ transform, reverse }` for `defineDataMigration`: `transform` is `forward`,
 * `reverse` is `inverse` and is present only when the transformer has one.
 *
 * ### Examples
 * ```ts
 * defineDataMigration({ id: '0042-message-status', engine: 'mongodb', collection: 'messages',
 *   ...rowTransform(messageStatus) });
 * ```
 */
export function rowTransform<In extends object, Out extends object>(
  transformer: InvertibleTransformer<In, Out>,
): InvertibleRowTransform;
export function rowTransform<In extends object, Out extends object>(transformer: Transformer<In, Out>): RowTransform;
export function rowTransform<In extends object, Out extends object>(
  transformer: Transformer<In, Out>,
): RowTransform | InvertibleRowTransform {
  const { forward, inverse } = transformer;
  const transform: RowMigrationFn = (row) => forward(row as In) as MaybePromise<MigrationRow | null>;
  if (typeof inverse !== 'function') return { transform };
  return { transform, reverse: (row) => inverse(row as Out) as MaybePromise<MigrationRow | null> };
}

/** All the rows of one owner, as a key/value pack reads them: `{ <owner>, …, rows }`. */
export interface KeyValueGroup {
  readonly rows: readonly object[];
}

/**
 * How a key/value pack's rows sit in their table, and how its input is made from one owner's rows.
 * `Options` is what {@link groupedTransform} needs besides the rows (`channelConfig`: the channel's type).
 */
export interface KeyValueLayout<Group, Owner extends string, Options> {
  readonly ownerColumn: Owner;
  readonly keyColumn: string;
  readonly valueColumn: string;
  /** The pack's input for one owner: `rows` hold only the three columns above. */
  group(owner: Id, rows: MigrationRow[], options: Options, ctx: GroupMigrationContext): MaybePromise<Group>;
}

/** A transformer over all the key/value rows of one owner (`tenantSettings`, `channelConfig`). */
export interface KeyValueTransformer<
  Group extends KeyValueGroup,
  Out,
  Owner extends string = string,
  Options = Record<never, never>,
> extends InvertibleSyncTransformer<Group, Out> {
  readonly keyValue: KeyValueLayout<Group, Owner, Options>;
}

/** An edit of a pack's typed object: the new object, or `null`/`undefined` to leave the group. */
export type GroupEditFn<T> = (value: T, ctx: GroupMigrationContext) => MaybePromise<T | null | undefined>;

/**
 * What {@link groupedTransform} applies between the pack's `forward` and `inverse`: a function, or an
 * object (a `Transformer<T, T>` fits) whose `inverse`, when present, makes `reverseGroup`.
 */
export type GroupEdit<T> =
  | GroupEditFn<T>
  | {
      forward(value: T, ctx: GroupMigrationContext): MaybePromise<T | null | undefined>;
      inverse?(value: T, ctx: GroupMigrationContext): MaybePromise<T | null | undefined>;
    };

/** `groupedTransform(pack, edit)`: spread into `defineDataMigration`. */
export interface GroupedTransform<Owner extends string> {
  readonly groupBy: Owner;
  readonly transformGroup: GroupMigrationFn;
}

/** The result for an edit that has an `inverse`: rollback runs it (`reverseGroup`). */
export interface InvertibleGroupedTransform<Owner extends string> extends GroupedTransform<Owner> {
  readonly reverseGroup: GroupMigrationFn;
}

/** The result for an edit without an inverse: rollback restores the SDK's backup. */
export interface OneWayGroupedTransform<Owner extends string> extends GroupedTransform<Owner> {
  readonly reverseGroup?: undefined;
}

/** The result type for an edit of type `E`: `reverseGroup` exactly when `E` has an `inverse`. */
export type GroupedTransformOf<Owner extends string, E> = E extends (...args: never[]) => unknown
  ? OneWayGroupedTransform<Owner>
  : E extends { inverse(...args: never[]): unknown }
    ? InvertibleGroupedTransform<Owner>
    : OneWayGroupedTransform<Owner> | InvertibleGroupedTransform<Owner>;

type OptionsArgument<Options> = Record<never, never> extends Options ? [options?: Options] : [options: Options];

/**
 * A key/value pack and an edit of its typed object as a grouped data migration's functions:
 * `{ groupBy: <owner column>, transformGroup, reverseGroup? }`, to spread into `defineDataMigration`
 * beside the table and its key (`key: ['tenant_id', 'settings_key']`). Rows whose key the edit does
 * not touch are left alone (their rows come back identical, so nothing is written).
 *
 * ### Examples
 * ```ts
 * defineDataMigration({ id: '0061-retention-floor', engine: 'postgres', table: 'tenant_settings',
 *   key: ['tenant_id', 'settings_key'],
 *   ...groupedTransform(tenantSettings, (s) => (s.retention_days !== undefined && s.retention_days < 7 ? { ...s, retention_days: 7 } : null)) });
 * ```
 */
export function groupedTransform<
  Group extends KeyValueGroup,
  Out,
  Owner extends string,
  Options,
  E extends GroupEdit<Out>,
>(
  pack: KeyValueTransformer<Group, Out, Owner, Options>,
  edit: E,
  ...options: OptionsArgument<Options>
): GroupedTransformOf<Owner, E> {
  const layout = pack.keyValue;
  const given = edit as GroupEdit<Out>;
  const forwardEdit: GroupEditFn<Out> = typeof given === 'function' ? given : given.forward.bind(given);
  const inverseEdit: GroupEditFn<Out> | undefined =
    typeof given === 'function' ? undefined : given.inverse?.bind(given);
  const through =
    (fn: (value: Out, ctx: GroupMigrationContext) => MaybePromise<Out | null | undefined>): GroupMigrationFn =>
    async (rows, ctx) => {
      const { ownerColumn: owner, keyColumn: key, valueColumn: value } = layout;
      const known = rows.map((row) => ({ [owner]: row[owner], [key]: row[key], [value]: row[value] }));
      const group = await layout.group(rows[0]![owner] as Id, known, options[0] as Options, ctx);
      const typed = await pack.forward(group);
      if (typed === null) return null;
      const edited = await fn(typed, ctx);
      if (edited === null || edited === undefined) return null;
      const back = await pack.inverse(edited);
      if (back === null) return null;
      // Each row as it was, with the value the pack wrote for its key: columns it does not know stay.
      const byKey = new Map(rows.map((row) => [row[key], row]));
      return (back.rows as readonly MigrationRow[]).map((row) => {
        const was = byKey.get(row[key]);
        return was ? { ...was, [value]: row[value] } : { ...row };
      });
    };
  const result = { groupBy: layout.ownerColumn, transformGroup: through(forwardEdit) };
  return (inverseEdit ? { ...result, reverseGroup: through(inverseEdit) } : result) as GroupedTransformOf<Owner, E>;
}
