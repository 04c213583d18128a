/**
 * Writes docs/reference/{configuration,events,reports,errors}.md from the code (`pnpm run
 * docs:reference`); with `--check`, writes nothing and exits 1 when a checked-in page differs from
 * what the code gives (CI runs it through test/docs/reference.test.ts).
 *
 * The sources are core's own: the option, event and result types and their JSDoc (read with the
 * TypeScript compiler API from packages/core/src), `MIGRATOR_DEFAULTS`/`CALL_DEFAULTS` and the zod
 * schemas the code validates with, `ErrorCode` and every construction of an error class in the
 * sources of core, postgres and mongodb. See scripts/reference/ for what each page checks.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '../packages/core/src/index.js';
import { callSchemas } from '../packages/core/src/run/options.js';
import { configSchema } from '../packages/core/src/run/config.js';
import { CALL_DEFAULTS, MIGRATOR_DEFAULTS } from '../packages/core/src/run/defaults.js';
import { configurationPage, type JsonSchema } from './reference/configuration.js';
import { scanErrorSites, type ErrorClass, type ErrorSites } from './reference/error-sites.js';
import { errorsPage } from './reference/errors.js';
import { eventsPage } from './reference/events.js';
import { createProgram, ROOT, type Program } from './reference/program.js';
import { reportsPage, reportTypes } from './reference/reports.js';
import { linkWithin } from './reference/types.js';

export const PAGES = ['configuration.md', 'events.md', 'reports.md', 'errors.md'] as const;
export const REFERENCE_DIR = join(ROOT, 'docs', 'reference');
export const REGENERATE = 'pnpm run docs:reference';

/** The error classes core exports: `MigrateError` and its subclasses, by name. */
export function errorClasses(): Record<string, ErrorClass> {
  return Object.fromEntries(
    Object.entries(core).filter(
      ([, v]) => typeof v === 'function' && (v === core.MigrateError || v.prototype instanceof core.MigrateError),
    ),
  ) as Record<string, ErrorClass>;
}

const jsonSchema = (schema: { toJSONSchema(o: object): unknown }): JsonSchema =>
  schema.toJSONSchema({ unrepresentable: 'any', io: 'input' }) as JsonSchema;

export interface Reference {
  readonly pages: Readonly<Record<(typeof PAGES)[number], string>>;
  readonly sites: ErrorSites;
  readonly program: Program;
}

export function generateReference(): Reference {
  const program = createProgram();
  const sites = scanErrorSites(program, errorClasses());
  const reports = reportTypes(program);
  const pages = {
    'configuration.md': configurationPage(program, {
      migratorDefaults: MIGRATOR_DEFAULTS,
      callDefaults: CALL_DEFAULTS,
      configSchema: jsonSchema(configSchema),
      callSchemas: Object.fromEntries(Object.entries(callSchemas).map(([k, s]) => [k, jsonSchema(s)])),
    }),
    'events.md': eventsPage(program, linkWithin(new Set(reports.map((t) => t.name)), 'reports.md')),
    'reports.md': reportsPage(program),
    'errors.md': errorsPage(core.ErrorCode, sites),
  };
  return { pages, sites, program };
}

/** The pages whose checked-in text (in `dir`) differs from the generated one. */
export function stalePages(pages: Reference['pages'], dir = REFERENCE_DIR): string[] {
  return PAGES.filter((page) => {
    let current: string | undefined;
    try {
      current = readFileSync(join(dir, page), 'utf8');
    } catch {
      current = undefined;
    }
    return current !== pages[page];
  });
}

/** What `--check` says about stale pages. */
export const staleMessage = (stale: readonly string[]): string =>
  `docs/reference is out of date with the code: ${stale.join(', ')}. Run \`${REGENERATE}\` and commit the result.`;

function main(argv: readonly string[]): number {
  const { pages } = generateReference();
  if (argv.includes('--check')) {
    const stale = stalePages(pages);
    if (stale.length === 0) return 0;
    console.error(staleMessage(stale));
    return 1;
  }
  for (const page of PAGES) writeFileSync(join(REFERENCE_DIR, page), pages[page]);
  console.log(`wrote ${PAGES.map((p) => `docs/reference/${p}`).join(', ')}`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
