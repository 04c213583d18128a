/**
 * docs/reference/errors.md: every `ErrorCode`, the classes that carry it (read from the code by
 * error-sites.ts), and the prose of errors-prose.ts.
 */
import { cell, code, page, table } from './markdown.js';
import type { ErrorSites } from './error-sites.js';
import { ERROR_PROSE, ERRORS_FOOTER, ERRORS_HEADER } from './errors-prose.js';

/** The class cell of a code: each class, with the adapters that raise it when core does not. */
export function classesOf(sites: ErrorSites, code_: string): string {
  const carriers = [...(sites.get(code_)?.values() ?? [])];
  if (carriers.length === 0) return '— (never thrown)';
  return carriers
    .map((c) => `${code(c.className)}${c.packages.has('core') ? '' : ` (${[...c.packages].sort().join(', ')})`}`)
    .join(', ');
}

export function errorsPage(codes: Readonly<Record<string, string>>, sites: ErrorSites): string {
  const values = Object.values(codes);
  const problems = [
    ...values.filter((c) => !ERROR_PROSE[c]).map((c) => `${c} has no entry in scripts/reference/errors-prose.ts`),
    ...Object.keys(ERROR_PROSE)
      .filter((c) => !values.includes(c))
      .map((c) => `errors-prose.ts describes ${c}, which ErrorCode does not have`),
    ...[...sites.keys()].filter((c) => !values.includes(c)).map((c) => `${c} is thrown but is not in ErrorCode`),
  ];
  if (problems.length) throw new Error(`reference: errors:\n${problems.join('\n')}`);
  const rows = values.map((c) => [
    code(c),
    cell(classesOf(sites, c)),
    cell(ERROR_PROSE[c]!.thrownBy),
    cell(ERROR_PROSE[c]!.meaning),
  ]);
  return page('Errors', 'errors.md', [
    ERRORS_HEADER,
    `## The ${values.length} codes`,
    'The classes are read from the code: every place that constructs an error, with the code it passes. A class in parentheses is raised only by those adapters.',
    table(['code', 'class', 'thrown by', 'meaning, and what to do'], rows),
    ERRORS_FOOTER,
  ]);
}
