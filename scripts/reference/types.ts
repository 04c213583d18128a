/**
 * Types as tables: the members of an interface (or of an intersection such as an event payload)
 * with their declared types and docs, and the closure of the core types a set of roots refers to,
 * for docs/reference/reports.md and events.md.
 */
import ts from 'typescript';
import { anchor, cell, code, table } from './markdown.js';
import { docOf, membersOf, referencedCoreTypes, typeText, type Program } from './program.js';

/** Where a type's section is, by name (`undefined`: not described on any page). */
export type Linker = (name: string) => string | undefined;

function typeNodeOf(node: ts.Node): ts.TypeNode | undefined {
  return (node as ts.PropertySignature).type;
}

/** A field's type: its declared text, then links to the described types it names. */
export function typeCell(p: Program, declaration: ts.Node, link: Linker): string {
  const links = referencedCoreTypes(p.checker, typeNodeOf(declaration))
    .map(({ name }) => {
      const href = link(name);
      return href ? `[${name}](${href})` : undefined;
    })
    .filter(Boolean);
  return cell(`${code(typeText(declaration))}${links.length ? ` → ${links.join(', ')}` : ''}`);
}

/** The members of `type` as a field | type | description table. */
export function memberTable(p: Program, type: ts.Type, link: Linker): string {
  const rows = membersOf(p.checker, type).map((m) => [
    code(`${m.name}${m.optional ? '?' : ''}`),
    typeCell(p, m.declaration, link),
    cell(docOf(m.declaration)),
  ]);
  return table(['field', 'type', 'description'], rows);
}

export interface Described {
  readonly name: string;
  readonly declaration: ts.InterfaceDeclaration | ts.TypeAliasDeclaration;
}

/** The core interfaces and type aliases `roots` refer to, transitively, in breadth-first order. */
export function closure(p: Program, roots: readonly ts.Node[]): Described[] {
  const out: Described[] = [];
  const seen = new Set<ts.Node>();
  const queue = roots.flatMap((r) => referencedCoreTypes(p.checker, r));
  while (queue.length) {
    const { name, declaration } = queue.shift()!;
    if (seen.has(declaration) || ts.isClassDeclaration(declaration)) continue;
    seen.add(declaration);
    out.push({ name, declaration });
    const inner = ts.isInterfaceDeclaration(declaration)
      ? membersOf(p.checker, p.checker.getTypeAtLocation(declaration.name)).map((m) => typeNodeOf(m.declaration))
      : [declaration.type];
    for (const node of inner) queue.push(...referencedCoreTypes(p.checker, node));
  }
  return out;
}

/** The doc comments between a union member and the one before it (`/** … *\/ | 'x'`). */
function memberDoc(union: ts.UnionTypeNode, i: number): string {
  const text = union.getSourceFile().getFullText();
  const from = i === 0 ? union.getFullStart() : union.types[i - 1]!.getEnd();
  const between = text.slice(from, union.types[i]!.getStart());
  return (between.match(/\/\*\*[\s\S]*?\*\//g) ?? [])
    .map((c) =>
      c
        .replace(/^\/\*\*|\*\/$/g, '')
        .replace(/^\s*\*\s?/gm, '')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .join(' ');
}

/** A described type's section: its doc, then its members or its definition. */
export function typeSection(p: Program, d: Described, link: Linker): string {
  const doc = docOf(d.declaration);
  const head = `### ${d.name}`;
  if (ts.isInterfaceDeclaration(d.declaration) || ts.isTypeLiteralNode(d.declaration.type)) {
    const type = p.checker.getTypeAtLocation(d.declaration.name);
    return [head, doc, memberTable(p, type, link)].filter(Boolean).join('\n\n');
  }
  const t = d.declaration.type;
  const written = t
    .getText()
    .replace(/\/\*\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .replace(/^\| /, '')
    .trim();
  // Written in terms of a value (`(typeof LedgerState)[keyof typeof LedgerState]`): the resolved union reads better.
  const resolved = p.checker.getTypeAtLocation(d.declaration.name);
  const shown = written.includes('typeof ')
    ? (resolved.isUnion() ? resolved.types : [resolved])
        .map((u) => p.checker.typeToString(u, undefined, ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType))
        .join(' | ')
    : written;
  const members = ts.isUnionTypeNode(t)
    ? t.types.map((m, i) => ({ text: m.getText(), doc: memberDoc(t, i) })).filter((m) => m.doc)
    : [];
  const list = members.length ? members.map((m) => `- ${code(m.text)}: ${m.doc}`).join('\n') : '';
  return [head, doc, code(`type ${d.name} = ${shown}`), list].filter(Boolean).join('\n\n');
}

export const linkWithin =
  (names: ReadonlySet<string>, page = ''): Linker =>
  (name) =>
    names.has(name) ? `${page}#${anchor(name)}` : undefined;
