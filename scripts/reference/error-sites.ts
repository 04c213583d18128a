/**
 * Which error classes carry which code, read from the code itself: every `new X(…)` of a
 * `MigrateError` class in the sources of core, postgres and mongodb, with the code it passes (a
 * `code` argument, an options object's `code`, or the class's own default, read by constructing the
 * class). A code the types cannot pin to `ErrorCode` literals fails the generator, naming the site,
 * so the table on docs/reference/errors.md cannot leave a class out or name a wrong one.
 */
import ts from 'typescript';
import { packageOf, where, type Program } from './program.js';

export type ErrorClass = new (...args: any[]) => Error & { readonly code: string };

/** How a site's code was read: the argument named `code`, an options object's `code`, or the class default. */
export type CodeSource = 'argument' | 'options' | 'default';

export interface Carrier {
  readonly className: string;
  readonly source: CodeSource;
  /** The position of the argument that carries the code (its options object for `options`). */
  readonly index: number;
  /** Packages whose sources construct it with this code (`core`, `postgres`, `mongodb`). */
  readonly packages: ReadonlySet<string>;
  /** `path:line` of each construction. */
  readonly sites: readonly string[];
}

/** code → class name → carrier. */
export type ErrorSites = Map<string, Map<string, Carrier>>;

/** The code a class sets when none is passed, by constructing it (arguments that mean "no code"). */
export function defaultCode(cls: ErrorClass): string {
  return new cls('probe', 'probe', 'probe').code;
}

/** Constructs the class of `carrier` the way its sites do, with `code`: what the reference test checks. */
export function construct(cls: ErrorClass, carrier: Carrier, code: string): Error & { readonly code: string } {
  const args: unknown[] = ['probe', 'probe', 'probe'];
  if (carrier.source === 'argument') args[carrier.index] = code;
  if (carrier.source === 'options') args[carrier.index] = { code };
  return new cls(...args);
}

function literalValues(type: ts.Type): string[] | null {
  const parts = type.isUnion() ? type.types : [type];
  const values: string[] = [];
  for (const t of parts) {
    if (t.flags & ts.TypeFlags.Undefined) continue;
    if (!t.isStringLiteral()) return null;
    values.push(t.value);
  }
  return values;
}

const EXCLUDED = /[\\/]testing[\\/]conformance[\\/]/;

interface Found {
  readonly codes: readonly string[];
  readonly source: CodeSource;
  readonly index: number;
}

function codesAt(p: Program, node: ts.NewExpression, cls: ErrorClass, problems: string[]): Found | undefined {
  const signature = p.checker.getResolvedSignature(node);
  const args = node.arguments ?? [];
  let found: Found | undefined;
  signature?.getParameters().forEach((param, i) => {
    const arg = args[i];
    if (!arg || found) return;
    const argType = p.checker.getTypeAtLocation(arg);
    const isCode = param.name === 'code';
    const prop = isCode ? undefined : argType.getProperty('code');
    if (!isCode && !prop) return;
    const type = isCode ? argType : p.checker.getTypeOfSymbolAtLocation(prop!, arg);
    const codes = literalValues(type);
    if (codes === null || codes.length === 0) {
      problems.push(
        `${where(node)}: new ${node.expression.getText()}(…) passes a code typed \`${p.checker.typeToString(type)}\`; pass ErrorCode.<Name> (or a conditional of them) so the reference can tell which`,
      );
      found = { codes: [], source: isCode ? 'argument' : 'options', index: i };
      return;
    }
    found = { codes, source: isCode ? 'argument' : 'options', index: i };
  });
  return found ?? { codes: [defaultCode(cls)], source: 'default', index: -1 };
}

/** Every construction of one of `classes` (by exported name) in the SDK's sources, by code. */
export function scanErrorSites(p: Program, classes: Readonly<Record<string, ErrorClass>>): ErrorSites {
  const sites: ErrorSites = new Map();
  const problems: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isNewExpression(node)) {
      const symbol = p.checker.getSymbolAtLocation(node.expression);
      const target = symbol && symbol.flags & ts.SymbolFlags.Alias ? p.checker.getAliasedSymbol(symbol) : symbol;
      const cls = target && Object.hasOwn(classes, target.name) ? classes[target.name] : undefined;
      if (cls && target) {
        const { codes, source, index } = codesAt(p, node, cls, problems)!;
        for (const code of codes) {
          const byClass = sites.get(code) ?? new Map<string, Carrier>();
          sites.set(code, byClass);
          const prev = byClass.get(target.name);
          byClass.set(target.name, {
            className: target.name,
            source: prev?.source ?? source,
            index: prev?.index ?? index,
            packages: new Set([...(prev?.packages ?? []), packageOf(node)]),
            sites: [...(prev?.sites ?? []), where(node)],
          });
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  for (const file of p.files) if (!EXCLUDED.test(file.fileName)) visit(file);
  if (problems.length) throw new Error(`reference: error codes the scan cannot read:\n${problems.join('\n')}`);
  return sites;
}
