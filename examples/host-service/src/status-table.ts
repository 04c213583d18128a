/** The per-shard status table printed at the end of the demo, from `migrator.status()`. */
import { createMigrator, type EngineAdapter } from '@mcp/migrate-core';
import { migrations } from './migrations.js';

export async function printStatus(engines: { postgres: EngineAdapter; mongodb: EngineAdapter }): Promise<void> {
  const migrator = createMigrator({ engines, migrations });
  const status = await migrator.status();
  const rows = status.shards.map((s) => {
    const applied = s.migrations.filter((m) => m.state === 'applied');
    const last = applied.at(-1);
    const data = applied.filter((m) => m.counts).reduce((n, m) => n + (m.counts?.written ?? 0), 0);
    return [
      s.shardId,
      s.engine,
      s.reachable ? 'up' : 'DOWN',
      String(applied.length),
      String(s.pending.length),
      last?.id ?? '-',
      data ? data.toLocaleString('en-US') : '-',
    ];
  });
  const header = ['shard', 'engine', 'state', 'applied', 'pending', 'last applied', 'rows rewritten'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`\nStatus of migration set "${status.set}":`);
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(fmt(r));
  await migrator.close();
}
