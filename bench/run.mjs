// Runs every benchmark in bench/*/index.mjs (or the ones named on the command line), one after
// another, against the services in .services/env. Each prints its own baseline, result and ratio.
//   pnpm bench                      all of them
//   pnpm bench pg-transform         one
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const envFile = join(here, '..', '.services', 'env');
const env = { ...process.env };
if (existsSync(envFile)) {
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m && env[m[1]] === undefined) env[m[1]] = m[2].replace(/^['"]|['"]$/g, '');
  }
}
const wanted = process.argv.slice(2);
const benches = readdirSync(here, { withFileTypes: true })
  .filter(
    (d) =>
      d.isDirectory() &&
      existsSync(join(here, d.name, 'index.mjs')) &&
      (wanted.length === 0 || wanted.includes(d.name)),
  )
  .map((d) => d.name)
  .sort();
if (benches.length === 0) {
  console.error(`no benchmark matches ${wanted.join(', ') || '(none found)'}`);
  process.exit(1);
}
let failed = 0;
for (const name of benches) {
  console.log(`\n=== bench/${name}`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, name, 'index.mjs')], { stdio: 'inherit', env });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
