/**
 * SQL identifiers: table, column and schema names are validated against a strict pattern and then
 * double-quoted, so that a name can never carry SQL. Values are never inlined: they are bound.
 */
import { DefinitionError, ErrorCode } from '@mcp/migrate-core/engine';

/** A plain identifier: a letter or `_`, then letters, digits or `_`; at most 63 bytes (`NAMEDATALEN - 1`). */
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_IDENTIFIER_LENGTH = 63;

/**
 * Throws a `DefinitionError` naming `field` unless `name` is a plain identifier. Nothing is ever
 * sent to the server for a rejected name.
 */
export function assertIdentifier(name: unknown, field: string): asserts name is string {
  if (typeof name !== 'string' || !IDENTIFIER_PATTERN.test(name) || name.length > MAX_IDENTIFIER_LENGTH) {
    throw new DefinitionError(
      `postgres: field "${field}": ${JSON.stringify(String(name)).slice(0, 80)} is not a plain SQL identifier (${IDENTIFIER_PATTERN.source}, at most ${MAX_IDENTIFIER_LENGTH} characters)`,
      { code: ErrorCode.Config, field },
    );
  }
}

/** `"name"`, after {@link assertIdentifier}. */
export function quoteIdentifier(name: string, field = 'identifier'): string {
  assertIdentifier(name, field);
  return `"${name}"`;
}

/** A table reference, split into schema and table. */
export interface TableName {
  readonly schema: string;
  readonly table: string;
  /** `"schema"."table"`. */
  readonly sql: string;
  /** `schema.table` with quotes, usable as a `regclass` literal. */
  readonly regclass: string;
}

/**
 * Resolves `table` or `schema.table` against `defaultSchema`, validating both parts.
 */
export function tableName(name: string, defaultSchema: string, field = 'table'): TableName {
  const parts = typeof name === 'string' ? name.split('.') : [];
  if (parts.length < 1 || parts.length > 2) assertIdentifier(name, field);
  const [schema, table] = parts.length === 2 ? (parts as [string, string]) : [defaultSchema, parts[0]!];
  assertIdentifier(schema, field);
  assertIdentifier(table, field);
  const sql = `"${schema}"."${table}"`;
  return { schema, table, sql, regclass: sql };
}

/** The refusal of a table that is not there (a checksum of a missing table). */
export function tableNotFound(t: TableName, shardId: string): DefinitionError {
  return new DefinitionError(`postgres: table ${t.sql} not found on shard "${shardId}"`, {
    code: ErrorCode.Config,
    shardId,
    field: 'table',
  });
}
