/**
 * Migration definitions: {@link defineMigration} for schema steps and {@link defineDataMigration}
 * for batched, resumable rewrites of existing rows/documents. Both validate their input with zod
 * and throw a `DefinitionError` that names the migration and the field, before anything runs.
 */
import { DefinitionError } from '../errors/errors.js';
import { declaredChecksum, definedDefaultKey, KEY_DEFAULTED, stepPart } from './checksum.js';
import { checkDependsOn, DEFAULT_BATCH_SIZE, dataInput, parse, schemaInput, toScope } from './migration-schema.js';
import type { EngineName } from '../engine/spi.js';
import { checkGroupBy } from './grouping.js';
import type {
  DataMigration,
  DataMigrationInput,
  HandleCheck,
  HandleOf,
  DefinedDataMigration,
  GroupedDataMigrationInput,
  Migration,
  MigrationInput,
  SchemaMigration,
  ServerDataMigrationInput,
} from './migration-types.js';
import { normalizePreserve } from './preserve.js';
import { checkServerStatements } from './server-statement.js';
import { typedEncode } from '../util/typed-encode.js';

export type {
  DataMigration,
  DataMigrationInput,
  EngineHandles,
  HandleCheck,
  HandleOf,
  GroupedDataMigration,
  GroupedDataMigrationInput,
  GroupTransformContext,
  GroupTransformFn,
  Migration,
  MigrationContext,
  MigrationInput,
  MigrationScope,
  DefinedDataMigration,
  RowDataMigration,
  ScopeInput,
  SchemaMigration,
  ServerDataMigration,
  ServerDataMigrationInput,
  TransformContext,
  TransformFn,
} from './migration-types.js';
export { DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE } from './migration-schema.js';

/**
 * Defines a schema migration. Throws `DefinitionError` for bad input.
 *
 * `up`/`down` receive the native handle of `engine` (see `EngineHandles`): pg's `PoolClient` for
 * `postgres` once `@mcp/migrate-postgres` is imported, the driver's `Db` for `mongodb` once
 * `@mcp/migrate-mongodb` is, a `MemoryShard` for `memory`, `unknown` for a name none registered.
 * `defineMigration<Handle>({ … })` names the type explicitly instead (no check against the engine).
 *
 * ### Examples
 * ```ts
 * export default defineMigration({
 *   id: '0003-webhooks-secret-not-null',
 *   engine: 'postgres',
 *   async up(client) { await client.query('ALTER TABLE webhooks ALTER COLUMN secret SET NOT NULL'); },
 *   async down(client) { await client.query('ALTER TABLE webhooks ALTER COLUMN secret DROP NOT NULL'); },
 * });
 * ```
 */
export function defineMigration<const E extends EngineName>(
  input: MigrationInput<HandleOf<E>, E>,
): SchemaMigration<HandleOf<E>>;
/** With the handle's type given or annotated on `up`: checked against the engine's registered handle. */
export function defineMigration<Handle, const E extends EngineName = EngineName>(
  input: MigrationInput<Handle, E> & HandleCheck<Handle, E>,
): SchemaMigration<Handle>;
export function defineMigration<Handle>(input: MigrationInput<Handle>): SchemaMigration<Handle> {
  const v = parse(schemaInput, 'Migration', input);
  const scope = toScope(v.scope);
  const transaction = v.transaction ?? true;
  return Object.freeze({
    kind: 'schema' as const,
    id: v.id,
    engine: v.engine,
    description: v.description ?? '',
    dependsOn: checkDependsOn(v.id, v.dependsOn),
    scope,
    transaction,
    up: input.up,
    down: input.down,
    preserve: normalizePreserve(v.preserve),
    checksum: declaredChecksum([
      'schema',
      v.id,
      v.engine,
      scope,
      transaction,
      v.version ?? null,
      stepPart(input.up),
      stepPart(input.down),
      ...(v.preserve ? [v.preserve] : []),
    ]),
  });
}

/**
 * Defines a data migration: a batched, resumable, throttled rewrite. Throws `DefinitionError` for bad input.
 * One row at a time with `transform`/`reverse`, or whole groups of rows (all the rows that share
 * their `groupBy` values, a prefix of `key`) with `groupBy` + `transformGroup`/`reverseGroup`.
 *
 * ### Examples
 * ```ts
 * export default defineDataMigration({
 *   id: '0007-message-content-structured',
 *   engine: 'mongodb',
 *   collection: 'messages',
 *   transform: (doc) => (typeof doc.content === 'string' ? { ...doc, content: { type: 'text', text: doc.content } } : null),
 * });
 * ```
 */
export function defineDataMigration<
  const I extends DataMigrationInput | GroupedDataMigrationInput | ServerDataMigrationInput,
>(input: I): DefinedDataMigration<I> {
  const v = parse(dataInput, 'Data migration', input);
  const scope = toScope(v.scope);
  const key = v.key === undefined ? [...definedDefaultKey(v.engine)] : typeof v.key === 'string' ? [v.key] : [...v.key];
  if (new Set(key).size !== key.length) {
    throw new DefinitionError(`Data migration "${v.id}": field "key": repeats a field`, {
      migrationId: v.id,
      field: 'key',
    });
  }
  const groupBy = checkGroupBy(v.id, v.groupBy, key);
  const target = { name: (v.collection ?? v.table)!, key };
  const batchSize = v.batchSize ?? DEFAULT_BATCH_SIZE;
  checkServerStatements(v.id, v, key);
  const server = v.sql !== undefined || v.update !== undefined;
  const statements =
    v.sql !== undefined
      ? { sql: v.sql, reverseSql: v.reverseSql }
      : {
          update: (input as ServerDataMigrationInput).update,
          reverseUpdate: (input as ServerDataMigrationInput).reverseUpdate,
        };
  const transforms = server
    ? statements
    : groupBy
      ? { groupBy, transformGroup: input.transformGroup!, reverseGroup: input.reverseGroup }
      : { transform: input.transform!, reverse: input.reverse };
  const defined = Object.freeze({
    kind: 'data' as const,
    id: v.id,
    engine: v.engine,
    description: v.description ?? '',
    dependsOn: checkDependsOn(v.id, v.dependsOn),
    scope,
    target,
    filter: v.filter,
    batchSize,
    maxRowsPerSecond: v.maxRowsPerSecond,
    ...transforms,
    verify: input.verify,
    ifMissing: v.ifMissing ?? 'fail',
    backup: v.backup ?? true,
    parallelism: v.parallelism ?? 1,
    checksum: declaredChecksum([
      'data',
      v.id,
      v.engine,
      scope,
      target,
      v.filter ?? null,
      v.version ?? null,
      stepPart(input.transform),
      stepPart(input.reverse),
      // Only grouped migrations add parts: the checksums of the others stay what they were.
      ...(groupBy ? [{ groupBy, transformGroup: true, reverseGroup: stepPart(input.reverseGroup) }] : []),
      // A server-side migration's statements are hashed as written (documents with their BSON types).
      ...(server
        ? [
            Object.fromEntries(
              Object.entries(statements).map(([k, x]) => [
                k,
                x === undefined ? null : typeof x === 'string' ? x : typedEncode(x),
              ]),
            ),
          ]
        : []),
    ]),
  }) as DataMigration;
  if (v.key === undefined) KEY_DEFAULTED.add(defined);
  return defined as DefinedDataMigration<I>;
}

export function isMigration(value: unknown): value is Migration {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return (
    typeof value === 'object' &&
    value !== null &&
    (kind === 'schema' || kind === 'data') &&
    typeof (value as { checksum?: unknown }).checksum === 'string'
  );
}
