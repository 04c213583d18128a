/**
 * Server-side data migrations: `sql` (PostgreSQL) or `update` (MongoDB) run by the server itself
 * over each key range `(after, upTo]`, instead of a `transform` in JavaScript. This module checks
 * what they declare, before anything connects: SQL is ONE `UPDATE` whose only parameters are `$1`
 * (the range's exclusive lower bound) and `$2` (its inclusive upper bound); an update is an
 * update-operator document (`{ $set: … }`) or a pipeline (an array of `{ $stage: … }`).
 *
 * The SQL is trusted host code, like a schema step's: identifiers in it are the migration's own,
 * and the SDK binds the two key values, never splices them in.
 */
import type { Direction, ServerStatement, ServerUpdateDocument } from '../engine/spi.js';
import { DefinitionError } from '../errors/errors.js';
import type { DataMigration, ServerDataMigration } from './migration-types.js';

const SERVER_FIELDS = ['sql', 'reverseSql', 'update', 'reverseUpdate'] as const;
const JS_FIELDS = ['transform', 'reverse', 'groupBy', 'transformGroup', 'reverseGroup'] as const;

/** Whether `m` is a server-side data migration (`sql` or `update`). */
export function isServerMigration(m: DataMigration): m is ServerDataMigration {
  const s = m as { sql?: unknown; update?: unknown };
  return s.sql !== undefined || s.update !== undefined;
}

/** The statement of `m` in `direction`: the forward one, or its reverse (`undefined` when it has none). */
export function serverStatement(m: ServerDataMigration, direction: Direction): ServerStatement | undefined {
  if (direction === 'up') return m.sql !== undefined ? { sql: sqlBody(m.sql) } : { update: m.update! };
  if (m.reverseSql !== undefined) return { sql: sqlBody(m.reverseSql) };
  return m.reverseUpdate !== undefined ? { update: m.reverseUpdate } : undefined;
}

/**
 * What is wrong with the mix of fields of a server-side migration (see `transformIssue`), or
 * `undefined` when `v` declares none of `sql`, `reverseSql`, `update`, `reverseUpdate`.
 */
export function serverIssue(v: Readonly<Record<string, unknown>>): { field: string; message: string } | undefined {
  const has = (f: string) => v[f] !== undefined;
  if (!SERVER_FIELDS.some(has)) return undefined;
  if (has('sql') && has('update'))
    return { field: 'update', message: 'give "sql" (PostgreSQL) or "update" (MongoDB), not both' };
  if (has('reverseSql') && !has('sql')) return { field: 'reverseSql', message: 'needs "sql"' };
  if (has('reverseUpdate') && !has('update')) return { field: 'reverseUpdate', message: 'needs "update"' };
  const js = JS_FIELDS.find(has);
  if (js) {
    const what = has('sql') ? 'sql' : 'update';
    return {
      field: js,
      message: `a server-side migration ("${what}") runs its statement in the server and takes no "${js}"`,
    };
  }
  if (has('sql') && has('filter'))
    return { field: 'filter', message: 'a "sql" migration states its condition in the statement\'s WHERE' };
  return undefined;
}

/**
 * Checks the statements of a server-side migration (SQL shape and placeholders, update
 * documents) and its key (`sql` bounds one key column). Throws a `DefinitionError` naming the field.
 */
export function checkServerStatements(id: string, v: Readonly<Record<string, unknown>>, key: readonly string[]): void {
  const fail = (field: string, why: string): never => {
    throw new DefinitionError(`Data migration "${id}": field "${field}": ${why}`, { migrationId: id, field });
  };
  for (const field of ['sql', 'reverseSql'] as const) {
    if (typeof v[field] !== 'string') continue;
    const why = sqlProblem(v[field]);
    if (why) fail(field, why);
    if (key.length !== 1)
      fail(
        'key',
        `a "sql" migration bounds ONE key column with $1 and $2; the key (${key.join(', ')}) has ${key.length}`,
      );
  }
  for (const field of ['update', 'reverseUpdate'] as const) {
    if (v[field] === undefined) continue;
    const why = updateProblem(v[field]);
    if (why) fail(field, why);
  }
}

/** What is wrong with an update document or pipeline, or `undefined`. */
export function updateProblem(update: unknown): string | undefined {
  const plain = (x: unknown): x is Record<string, unknown> =>
    typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;
  if (Array.isArray(update)) {
    if (update.length === 0) return 'a pipeline needs at least one stage';
    const bad = update.findIndex(
      (s) => !plain(s) || Object.keys(s).length !== 1 || !Object.keys(s)[0]!.startsWith('$'),
    );
    return bad >= 0 ? `stage ${bad} must be an object with one "$stage" field, e.g. { $set: { … } }` : undefined;
  }
  if (!plain(update)) return 'must be an update-operator document ({ $set: … }) or a pipeline (an array of stages)';
  const keys = Object.keys(update);
  if (keys.length === 0) return 'must hold at least one update operator, e.g. { $set: { … } }';
  const field = keys.find((k) => !k.startsWith('$'));
  if (field)
    return `"${field}" is not an update operator: a server-side update is { $set: … }, { $unset: … }, … (a replacement document would replace whole documents)`;
  return undefined;
}

/**
 * What is wrong with the SQL of a `sql`/`reverseSql`, or `undefined`: it must be one `UPDATE`
 * statement using `$1` and `$2` and no other parameter (literals, quoted identifiers, dollar
 * quotes and comments are skipped, so `'$3'` or `-- ;` are text, not a parameter or a second statement).
 */
export function sqlProblem(sql: string): string | undefined {
  const { params, code, extra } = scanSql(sql);
  if (!/^update\b/i.test(code.trimStart()))
    return 'must be ONE UPDATE statement (… WHERE <key> > $1 AND <key> <= $2); it starts otherwise';
  if (extra) return 'holds more than one statement (a ";" followed by more SQL); give exactly one UPDATE';
  if (/\breturning\b/i.test(code))
    return 'has a RETURNING clause: the SDK adds its own (the keys of the rows it updated, to save their originals)';
  const others = [...params].filter((n) => n !== 1 && n !== 2).sort((a, b) => a - b);
  if (others.length)
    return `uses ${others.map((n) => `$${n}`).join(', ')}: only $1 (the range's lower bound, exclusive) and $2 (its upper bound, inclusive) are bound`;
  const missing = [1, 2].filter((n) => !params.has(n));
  if (missing.length)
    return `does not use ${missing.map((n) => `$${n}`).join(' and ')}: the statement must bound the key with both, e.g. WHERE id > $1 AND id <= $2`;
  return undefined;
}

/**
 * The statement without its terminating `;` (and what follows it: whitespace and comments), so
 * that an adapter can append a clause to it. Comments inside it stay; a line comment at its end is
 * closed by the newline an adapter appends before its own clause.
 */
export function sqlBody(sql: string): string {
  const { end } = scanSql(sql);
  return end < 0 ? sql : sql.slice(0, end);
}

/**
 * The parameters (`$n`) of a SQL text outside literals, quoted identifiers and comments; the text
 * with those blanked (`code`); whether anything but whitespace and comments follows a `;`; and the
 * index of the first `;` outside them (`end`, -1 when none).
 */
function scanSql(sql: string): { params: Set<number>; code: string; extra: boolean; end: number } {
  const params = new Set<number>();
  let code = '';
  let ended = false;
  let end = -1;
  let extra = false;
  const ident = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_$\u0080-\uffff]/.test(c);
  let i = 0;
  /** Skips a comment, or a literal (`text`), which after a `;` is a second statement. */
  const skipTo = (end: number, text = true) => {
    if (text && ended) extra = true;
    code += ' ';
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      skipTo(nl < 0 ? sql.length : nl, false);
    } else if (c === '/' && next === '*') skipTo(blockCommentEnd(sql, i), false);
    else if (c === "'") skipTo(quotedEnd(sql, i, "'", /[eE]/.test(sql[i - 1] ?? '') && !ident(sql[i - 2])));
    else if (c === '"') skipTo(quotedEnd(sql, i, '"', false));
    else if (c === '$' && !ident(sql[i - 1])) {
      const param = /^\$(\d+)/.exec(sql.slice(i));
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (param) {
        params.add(Number(param[1]));
        if (ended) extra = true;
        code += param[0];
        i += param[0].length;
      } else if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        skipTo(close < 0 ? sql.length : close + tag[0].length);
      } else {
        code += c;
        i++;
      }
    } else {
      if (c === ';' && !ended) {
        ended = true;
        end = i;
      } else if (ended && !/[\s;]/.test(c)) extra = true;
      code += c;
      i++;
    }
  }
  return { params, code, extra, end };
}

/** Index after the `*\/` closing the (nestable) block comment opened at `start`. */
function blockCommentEnd(sql: string, start: number): number {
  let depth = 0;
  for (let i = start; i < sql.length - 1; i++) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i++;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i++;
      if (depth === 0) return i + 1;
    }
  }
  return sql.length;
}

/** Index after the quote closing the literal/identifier opened at `start` (doubled quotes, and backslashes in E'…'). */
function quotedEnd(sql: string, start: number, quote: string, backslashes: boolean): number {
  for (let i = start + 1; i < sql.length; i++) {
    if (backslashes && sql[i] === '\\') i++;
    else if (sql[i] === quote) {
      if (sql[i + 1] === quote) i++;
      else return i + 1;
    }
  }
  return sql.length;
}

export type { ServerUpdateDocument };
