#!/usr/bin/env node
/**
 * Fails on any import cycle inside a package's source (packages/<name>/src), type-only imports
 * included: a loop through `import type` is still two files that cannot be understood apart, and
 * it is how a value loop starts. Runs in `pnpm run lint`.
 *
 * Why madge and not eslint-plugin-import-x's `no-cycle`: that rule skips every `import type` edge
 * by design (no option turns it on), and each loop found when this check was added had one, so it
 * passed the very loops this check exists for. madge follows them, and is the same tool as
 * `npx madge --circular --extensions ts packages/*\/src`.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import madge from 'madge';

/**
 * The loops that existed when this check was added, each as its files in any order. Work in
 * progress removes them; a listed loop that no longer exists fails the check too, so this list
 * only shrinks (delete the line). Any loop not listed fails.
 */
const KNOWN = [];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packages = join(root, 'packages');

const found = [];
for (const name of readdirSync(packages).sort()) {
  const src = join(packages, name, 'src');
  const graph = await madge(src, {
    fileExtensions: ['ts'],
    tsConfig: join(packages, name, 'tsconfig.json'),
    detectiveOptions: { ts: { skipTypeImports: false } },
  });
  for (const cycle of graph.circular()) found.push(cycle.map((file) => relative(packages, join(src, file))));
}

const keyOf = (files) => [...files].sort().join(' ');
const known = new Set(KNOWN.map(keyOf));
const current = new Set(found.map(keyOf));
const fresh = found.filter((cycle) => !known.has(keyOf(cycle)));
const gone = KNOWN.filter((cycle) => !current.has(keyOf(cycle)));

const show = (cycle) => `  packages/${[...cycle, cycle[0]].join(' → packages/')}`;
for (const cycle of found.filter((c) => known.has(keyOf(c))))
  console.warn(`[cycles] known, to remove:\n${show(cycle)}`);
if (gone.length > 0) {
  console.error('[cycles] these listed loops are gone: delete them from KNOWN in scripts/check-cycles.mjs');
  for (const cycle of gone) console.error(show(cycle));
}
if (fresh.length > 0) {
  console.error(`[cycles] ${fresh.length} new import cycle(s) in packages/*/src (type-only imports count):`);
  for (const cycle of fresh) console.error(show(cycle));
}
if (fresh.length > 0 || gone.length > 0) process.exitCode = 1;
else console.log(`[cycles] no new import cycle in packages/*/src (${found.length} known)`);
