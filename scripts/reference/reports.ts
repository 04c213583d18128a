/**
 * docs/reference/reports.md: what each method of `Migrator` returns, and every core type those
 * results are made of (the closure of the return types), members with their declared types and docs.
 */
import ts from 'typescript';
import { anchor, cell, code, page, table } from './markdown.js';
import { docOf, referencedCoreTypes, type Program } from './program.js';
import { closure, linkWithin, typeSection, type Described } from './types.js';

const INTRO = `What the migrator's calls return. \`run()\` and \`rollback()\` return a \`RunReport\`, and throw
\`RunFailedError\` (\`MIGRATE_RUN_FAILED\`) carrying the same report as \`error.report\` when a step failed or
was not run (see [errors](errors.md)). In a rollback report, a step rolled back on a shard has the status
\`applied\`. Every string in these results is redacted (see [errors](errors.md)); the events that
carry them are on [events](events.md).`;

/** The public methods of `Migrator`, in declaration order. */
export function migratorMethods(p: Program): ts.MethodDeclaration[] {
  const migrator = p.declaration('run/migrator.ts', 'Migrator') as ts.ClassDeclaration;
  return migrator.members.filter(
    (m): m is ts.MethodDeclaration =>
      ts.isMethodDeclaration(m) &&
      !ts.isPrivateIdentifier(m.name) &&
      !(ts.getCombinedModifierFlags(m) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)),
  );
}

/** The types described on reports.md (also what events.md links to). */
export function reportTypes(p: Program): Described[] {
  return closure(
    p,
    migratorMethods(p).map((m) => m.type!),
  );
}

export function reportsPage(p: Program): string {
  const methods = migratorMethods(p);
  const types = reportTypes(p);
  const link = linkWithin(new Set(types.map((t) => t.name)));
  const rows = methods.map((m) => {
    if (!m.type) throw new Error(`reference: Migrator.${m.name.getText()} declares no return type`);
    const links = referencedCoreTypes(p.checker, m.type)
      .filter(({ name }) => link(name))
      .map(({ name }) => `[${name}](#${anchor(name)})`);
    const signature = `migrator.${m.name.getText()}(${m.parameters.map((x) => `${x.name.getText()}?`).join(', ')})`;
    const first = docOf(m).split(/(?<=\.)\s/)[0] ?? '';
    return [
      code(signature),
      cell(`${code(m.type.getText())}${links.length ? ` → ${links.join(', ')}` : ''}`),
      cell(first),
    ];
  });
  return page('Reports and results', 'reports.md', [
    INTRO,
    '## What each call returns',
    table(['call', 'returns', 'what it does'], rows),
    '## Types',
    ...types.map((t) => typeSection(p, t, link)),
  ]);
}
