/**
 * The TypeScript program the reference pages are read from: the sources of core, postgres and
 * mongodb, with `@mcp/migrate-core` mapped to core's sources (no build needed), and the helpers that
 * turn its declarations into documentation rows (a member's declared type as written, its JSDoc).
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CORE_SRC = join(ROOT, 'packages', 'core', 'src');

/** The packages whose sources are scanned for thrown errors (the published SDK, transformers aside). */
export const SDK_PACKAGES = ['core', 'postgres', 'mongodb'] as const;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

export interface Program {
  readonly program: ts.Program;
  readonly checker: ts.TypeChecker;
  /** Every source file of the scanned packages. */
  readonly files: readonly ts.SourceFile[];
  /** The exported declaration `name` of core's source module `module` (relative to packages/core/src). */
  declaration(module: string, name: string): ts.Declaration;
}

export function createProgram(): Program {
  const base = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.base.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  )!;
  const options: ts.CompilerOptions = {
    ...base.options,
    noEmit: true,
    paths: {
      '@mcp/migrate-core': [join(CORE_SRC, 'index.ts')],
      '@mcp/migrate-core/engine': [join(CORE_SRC, 'engine', 'index.ts')],
    },
  };
  const roots = SDK_PACKAGES.flatMap((p) => sourceFiles(join(ROOT, 'packages', p, 'src')));
  const program = ts.createProgram(roots, options);
  const checker = program.getTypeChecker();
  const files = roots.map((f) => program.getSourceFile(f)!);
  return {
    program,
    checker,
    files,
    declaration(module, name) {
      const file = program.getSourceFile(join(CORE_SRC, module));
      if (!file) throw new Error(`reference: no source file packages/core/src/${module}`);
      const symbol = checker.getSymbolAtLocation(file);
      const exported = symbol && checker.getExportsOfModule(symbol).find((s) => s.name === name);
      if (!exported) throw new Error(`reference: packages/core/src/${module} exports no "${name}"`);
      const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      return target.declarations![0]!;
    },
  };
}

/** `packages/<pkg>/src/...` of a node, for messages. */
export function where(node: ts.Node): string {
  const file = node.getSourceFile();
  const { line } = file.getLineAndCharacterOfPosition(node.getStart());
  return `${relative(ROOT, file.fileName)}:${line + 1}`;
}

/** The package (`core`, `postgres`, `mongodb`) a node's file belongs to. */
export function packageOf(node: ts.Node): string {
  return relative(join(ROOT, 'packages'), node.getSourceFile().fileName).split(/[\\/]/)[0]!;
}

/** True when the declaration is in core's sources (a type the reference pages describe). */
export function inCore(node: ts.Node): boolean {
  return node.getSourceFile().fileName.startsWith(CORE_SRC);
}

/**
 * The JSDoc of a declaration as one markdown line: `{@link X}` becomes `` `X` ``, lines are joined.
 * A fenced code block is refused: a table cell cannot hold it.
 */
export function docOf(node: ts.Node): string {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const text = docs
    .map((d) => (typeof d.comment === 'string' ? d.comment : (ts.getTextOfJSDocComment(d.comment) ?? '')))
    .join(' ');
  if (text.includes('```')) throw new Error(`reference: ${where(node)}: a fenced block in a member's doc`);
  return text
    .replace(/\{@link\s+([^}\s|]+)(?:[\s|]+([^}]*))?\}/g, (_, name: string, label?: string) => `\`${label || name}\``)
    .replace(/\s+/g, ' ')
    .trim();
}

/** The declared type of a property as written, without the `| undefined` of an optional one. */
export function typeText(node: ts.Node): string {
  const { type, questionToken } = node as ts.PropertySignature;
  if (!type) throw new Error(`reference: ${where(node)}: a member without a declared type`);
  const parts = ts.isUnionTypeNode(type) ? type.types : [type];
  const kept = parts.filter((t) => !questionToken || t.kind !== ts.SyntaxKind.UndefinedKeyword);
  return kept
    .map((t) => t.getText())
    .join(' | ')
    .replace(/\s+/g, ' ')
    .replace(/;\s*}/g, ' }')
    .trim();
}

/** The type node of a property with `undefined` removed, when a single type remains. */
export function definedTypeNode(node: ts.Node): ts.TypeNode | undefined {
  const type = (node as ts.PropertySignature).type;
  if (!type) return undefined;
  if (!ts.isUnionTypeNode(type)) return type;
  const kept = type.types.filter((t) => t.kind !== ts.SyntaxKind.UndefinedKeyword);
  return kept.length === 1 ? kept[0] : undefined;
}

export interface Member {
  readonly name: string;
  readonly optional: boolean;
  readonly declaration: ts.Declaration;
}

/** The properties of a type (inherited and intersected ones included), in declaration order. */
export function membersOf(checker: ts.TypeChecker, type: ts.Type): Member[] {
  return checker.getPropertiesOfType(type).map((symbol) => {
    const declaration = symbol.declarations?.[0];
    if (!declaration) throw new Error(`reference: property "${symbol.name}" has no declaration`);
    return { name: symbol.name, optional: (symbol.flags & ts.SymbolFlags.Optional) !== 0, declaration };
  });
}

/**
 * The object type a property's declared type names, when the reference should list its members as
 * `parent.member` rows: an inline type literal, or a core interface whose members are all properties
 * (not `Logger`, `Router`, … whose members are methods).
 */
export function expandable(checker: ts.TypeChecker, node: ts.Node): ts.Type | undefined {
  const t = definedTypeNode(node);
  if (!t) return undefined;
  if (ts.isTypeLiteralNode(t)) return checker.getTypeFromTypeNode(t);
  if (!ts.isTypeReferenceNode(t) || t.typeArguments) return undefined;
  const symbol = checker.getSymbolAtLocation(t.typeName);
  const target = symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const decl = target?.declarations?.[0];
  if (!decl || !ts.isInterfaceDeclaration(decl) || !inCore(decl)) return undefined;
  if (!decl.members.every(ts.isPropertySignature)) return undefined;
  return checker.getDeclaredTypeOfSymbol(target!);
}

export interface CoreType {
  readonly name: string;
  readonly declaration: ts.InterfaceDeclaration | ts.TypeAliasDeclaration | ts.ClassDeclaration;
}

/** The core types (interfaces, type aliases, classes) a type node refers to, in order of appearance. */
export function referencedCoreTypes(checker: ts.TypeChecker, node: ts.Node | undefined): CoreType[] {
  const out: CoreType[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isTypeReferenceNode(n)) {
      const symbol = checker.getSymbolAtLocation(n.typeName);
      const target = symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      // A name may be a value and a type at once (`LedgerState`): the type's declaration is wanted.
      const decl = target?.declarations?.find(
        (d): d is CoreType['declaration'] =>
          ts.isInterfaceDeclaration(d) || ts.isTypeAliasDeclaration(d) || ts.isClassDeclaration(d),
      );
      if (decl && inCore(decl) && !out.some((t) => t.declaration === decl))
        out.push({ name: target!.name, declaration: decl });
    }
    ts.forEachChild(n, visit);
  };
  if (node) visit(node);
  return out;
}
