/**
 * docs/reference/configuration.md: `createMigrator`'s options and the options of the migrator's
 * calls, each with its declared type, the bounds its zod schema enforces, its default and its doc.
 *
 * Sources, and the checks that keep them from disagreeing (each failure names the file and line):
 * - the members and their JSDoc: `MigratorConfig` and the parameter types of `Migrator`'s methods;
 * - defaults: `MIGRATOR_DEFAULTS` / `CALL_DEFAULTS` (run/defaults.ts), which the code reads. An option
 *   with a default there must say exactly `Default \`<value>\`` in its doc; a key there that no option
 *   has fails; a doc stating a literal default (other than `false`) that is not there fails;
 * - bounds: the zod schemas (`configSchema`, `callSchemas`) as JSON Schema; an option the interface
 *   has and the schema does not (it would be refused as unknown), or the reverse (undocumented), fails.
 */
import ts from 'typescript';
import { code, cell, literal, page, table } from './markdown.js';
import {
  definedTypeNode,
  docOf,
  expandable,
  membersOf,
  referencedCoreTypes,
  typeText,
  where,
  type Program,
} from './program.js';

/** A JSON Schema as `z.toJSONSchema` gives it (the parts read here). */
export interface JsonSchema {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
}

export interface ConfigurationSources {
  readonly migratorDefaults: object;
  readonly callDefaults: Readonly<Record<string, object>>;
  readonly configSchema: JsonSchema;
  /** By call (`run`, `rollbackTarget`, `rollback`, `verify`, `status`, `plan`). */
  readonly callSchemas: Readonly<Record<string, JsonSchema>>;
}

const SAFE = Number.MAX_SAFE_INTEGER;

/** What a value's schema enforces beyond its type, e.g. `integer, 1–256`. */
export function bounds(s: JsonSchema | undefined): string {
  if (!s) return '';
  const parts: string[] = [];
  if (s.type === 'integer') parts.push('integer');
  const max = s.maximum !== undefined && s.maximum < SAFE ? s.maximum : undefined;
  if (s.minimum !== undefined && max !== undefined) parts.push(`${s.minimum}–${max}`);
  else if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
  else if (max !== undefined) parts.push(`≤ ${max}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.pattern) parts.push(`matches ${code(s.pattern)}`);
  if (s.minLength !== undefined && s.maxLength !== undefined) parts.push(`${s.minLength}–${s.maxLength} characters`);
  else if (s.minLength !== undefined) parts.push(`non-empty`);
  return parts.join(', ');
}

interface Stated {
  readonly literal?: string;
  readonly text?: string;
}

/** The `Default …` sentence of a doc, and the doc without it. */
export function splitDefault(doc: string): { readonly rest: string; readonly stated: Stated | undefined } {
  const lit = /\s*Default `([^`]+)`(?: \(([^)]*)\))?\.?/.exec(doc);
  if (lit) return { rest: doc.replace(lit[0], '').trim(), stated: { literal: lit[1] } };
  const text = /\s*Default: (.+?)\.(?=\s|$)/.exec(doc);
  if (text) return { rest: doc.replace(text[0], '').trim(), stated: { text: text[1] } };
  return { rest: doc, stated: undefined };
}

/** Fallback descriptions of members that are the same everywhere. */
const COMMON: Readonly<Record<string, string>> = {
  signal: 'Aborts the call (`MIGRATE_ABORTED`).',
};

/** The definition of a core type alias an option is typed with, when short: `DriftPolicy` → `'fail' | 'warn'`. */
function aliasDefinition(p: Program, declaration: ts.Node): string | undefined {
  const t = definedTypeNode(declaration);
  if (!t || !ts.isTypeReferenceNode(t) || t.typeArguments) return undefined;
  const [ref] = referencedCoreTypes(p.checker, t);
  if (!ref || !ts.isTypeAliasDeclaration(ref.declaration)) return undefined;
  const text = ref.declaration.type
    .getText()
    .replace(/\/\*\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .replace(/;\s*}/g, ' }')
    .trim();
  return text.length <= 100 ? text : undefined;
}

interface Walk {
  readonly p: Program;
  readonly problems: string[];
}

function optionRows(
  w: Walk,
  type: ts.Type,
  at: { prefix: string; defaults: object | undefined; schema: JsonSchema | undefined; what: string },
): string[][] {
  const rows: string[][] = [];
  const members = membersOf(w.p.checker, type);
  const defaults = (at.defaults ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(defaults))
    if (!members.some((m) => m.name === key))
      w.problems.push(`${at.what}: the defaults name "${at.prefix}${key}", which is no option`);
  if (at.schema?.properties) {
    for (const key of Object.keys(at.schema.properties))
      if (!members.some((m) => m.name === key))
        w.problems.push(`${at.what}: the schema accepts "${at.prefix}${key}", which the type does not document`);
  }
  for (const m of members) {
    const path = `${at.prefix}${m.name}`;
    const schema = at.schema?.properties?.[m.name];
    if (at.schema?.properties && !schema)
      w.problems.push(`${where(m.declaration)}: "${path}" is not in the schema: createMigrator/the call refuses it`);
    if (at.schema && !m.optional !== (at.schema.required ?? []).includes(m.name))
      w.problems.push(`${where(m.declaration)}: "${path}" is required in one of the type and the schema only`);
    const { rest, stated } = splitDefault(docOf(m.declaration) || COMMON[m.name] || '');
    const constant = defaults[m.name];
    const nested = expandable(w.p.checker, m.declaration);
    let shown = m.optional ? '—' : 'required';
    if (constant !== undefined && (typeof constant !== 'object' || !nested)) {
      shown = code(literal(constant));
      if (stated?.literal !== literal(constant))
        w.problems.push(
          `${where(m.declaration)}: "${path}": its doc must say Default \`${literal(constant)}\` (the value in run/defaults.ts)${stated?.literal ? `, not \`${stated.literal}\`` : ''}`,
        );
    } else if (stated?.literal !== undefined) {
      if (stated.literal !== 'false')
        w.problems.push(
          `${where(m.declaration)}: "${path}": a literal default (\`${stated.literal}\`) belongs in run/defaults.ts, read by the code`,
        );
      shown = code(stated.literal);
    } else if (stated?.text) shown = stated.text;
    const b = bounds(schema);
    const alias = aliasDefinition(w.p, m.declaration);
    const declared = `${code(typeText(m.declaration))}${alias ? ` = ${code(alias)}` : ''}`;
    const typeCell = b ? `${declared} (${b})` : declared;
    rows.push([code(path), cell(typeCell), cell(shown), cell(rest)]);
    if (nested)
      rows.push(
        ...optionRows(w, nested, {
          prefix: `${path}.`,
          defaults: typeof constant === 'object' ? (constant as object) : undefined,
          schema,
          what: at.what,
        }),
      );
  }
  return rows;
}

const HEAD = ['option', 'type', 'default', 'description'];

const INTRO = `Every option is validated when \`createMigrator\` (or the call) runs, before anything connects or applies: an
unknown option, or a value outside its bounds, is a \`MIGRATE_CONFIG\` error naming the field (see
[errors](errors.md)). The defaults are exported as \`MIGRATOR_DEFAULTS\` from \`@mcp/migrate-core\`.`;

/** The methods of `Migrator` whose options get a table, with the schema each is validated with. */
const CALLS: readonly { method: string; schemas: readonly (string | undefined)[] }[] = [
  { method: 'run', schemas: ['run'] },
  { method: 'rollback', schemas: ['rollbackTarget', 'rollback'] },
  { method: 'verify', schemas: ['verify'] },
  { method: 'status', schemas: ['status'] },
  { method: 'plan', schemas: ['plan'] },
  { method: 'repair', schemas: ['repair'] },
  { method: 'purgeBackups', schemas: ['purgeBackups'] },
  { method: 'purgePreserved', schemas: ['purgePreserved'] },
];

function callSections(w: Walk, src: ConfigurationSources): string[] {
  for (const key of Object.keys(src.callDefaults))
    if (!CALLS.some((c) => c.method === key)) w.problems.push(`CALL_DEFAULTS: "${key}" is no call with options`);
  const migrator = w.p.declaration('run/migrator.ts', 'Migrator') as ts.ClassDeclaration;
  return CALLS.map(({ method, schemas }) => {
    const decl = migrator.members.find(
      (m): m is ts.MethodDeclaration => ts.isMethodDeclaration(m) && m.name.getText() === method,
    );
    if (!decl) throw new Error(`reference: Migrator has no method "${method}"`);
    const params = decl.parameters.map((param, i) => {
      const type = w.p.checker.getTypeAtLocation(param);
      const rows = optionRows(w, type, {
        prefix: '',
        defaults: i === 0 ? src.callDefaults[method] : undefined,
        schema: schemas[i] ? src.callSchemas[schemas[i]!] : undefined,
        what: `Migrator.${method}(${param.name.getText()})`,
      });
      return `\`${param.name.getText()}\`:\n\n${table(HEAD, rows)}`;
    });
    const signature = `${method}(${decl.parameters.map((x) => `${x.name.getText()}?`).join(', ')})`;
    const unchecked = schemas.every((s) => s === undefined)
      ? '\n\nThese options are not validated: a misspelled one is ignored.'
      : '';
    return `### \`${signature}\`\n\n${docOf(decl)}${unchecked}\n\n${params.join('\n\n')}`;
  });
}

export function configurationPage(p: Program, src: ConfigurationSources): string {
  const w: Walk = { p, problems: [] };
  const config = p.checker.getDeclaredTypeOfSymbol(
    p.checker.getSymbolAtLocation((p.declaration('run/config.ts', 'MigratorConfig') as ts.InterfaceDeclaration).name)!,
  );
  const rows = optionRows(w, config, {
    prefix: '',
    defaults: src.migratorDefaults,
    schema: src.configSchema,
    what: 'createMigrator',
  });
  const calls = callSections(w, src);
  if (w.problems.length) throw new Error(`reference: configuration:\n${w.problems.join('\n')}`);
  return page('Configuration', 'configuration.md', [
    INTRO,
    '## `createMigrator(options)`',
    table(HEAD, rows),
    '## Options of the calls',
    'Every call of a migrator takes its options as one object; all of them are optional.',
    ...calls,
  ]);
}
