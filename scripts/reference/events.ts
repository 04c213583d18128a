/**
 * docs/reference/events.md: every member of `MigratorEvents`, its doc (required: an event without
 * one fails the generator) and its payload's fields with their types and docs.
 */
import ts from 'typescript';
import { anchor, cell, code, page, table } from './markdown.js';
import { docOf, where, type Program } from './program.js';
import { memberTable, type Linker } from './types.js';

const INTRO = `\`migrator.on(name, listener)\` (eventemitter3). Events only observe: listeners are not awaited, and
one that throws is logged and ignored, never allowed to break a run. What must veto or delay a run, a
step or a batch is a [hook](../guides/hooks.md). Payloads are JSON-safe and redacted. \`StatusTracker\`
folds them into a snapshot (\`status().live\`), for CLIs and dashboards.`;

const EXAMPLE = `\`\`\`ts
import { createMigrator, defineDataMigration } from '@mcp/migrate-core';
import { memoryEngine } from '@mcp/migrate-core/testing';

const engine = memoryEngine({ name: 'memory', shards: ['m-0'] });
engine.handle('m-0').collection('notes', ['id']).upsert([{ id: 1, text: 'hi' }]);
const migrator = createMigrator({
  engines: { memory: engine },
  migrations: [
    defineDataMigration({
      id: '0001-notes-upper',
      engine: 'memory',
      table: 'notes',
      transform: (row) => ({ ...row, text: String(row.text).toUpperCase() }),
    }),
  ],
});
const seen: string[] = [];
migrator.on('shard:done', (e) => seen.push(\`\${e.migrationId} on \${e.shardId} in \${e.durationMs} ms\`));
migrator.on('batch', (e) => seen.push(\`\${e.shardId}: \${e.processed}/\${e.total ?? '?'} rows\`));
migrator.on('run:done', (e) => seen.push(\`ok: \${e.report.ok}\`));
await migrator.run();
await migrator.close();
console.log(seen.join('\\n'));
\`\`\``;

export function eventsPage(p: Program, linkReports: Linker): string {
  const events = p.declaration('events/events.ts', 'MigratorEvents') as ts.InterfaceDeclaration;
  const problems: string[] = [];
  const summary: string[][] = [];
  const sections: string[] = [];
  for (const member of events.members) {
    if (!ts.isPropertySignature(member) || !member.type || !ts.isFunctionTypeNode(member.type)) {
      problems.push(`${where(member)}: an event must be a property typed as a listener function`);
      continue;
    }
    const name = member.name.getText().replace(/^'|'$/g, '');
    const doc = docOf(member);
    if (!doc) problems.push(`${where(member)}: event "${name}" has no doc comment`);
    const param = member.type.parameters[0];
    if (!param?.type) {
      problems.push(`${where(member)}: event "${name}" has no typed payload`);
      continue;
    }
    const payload = p.checker.getTypeFromTypeNode(param.type);
    const named = ts.isTypeReferenceNode(param.type) ? ` (${code(param.type.getText())})` : '';
    summary.push([`[${code(name)}](#${anchor(name)})`, cell(doc)]);
    sections.push(`### \`${name}\`\n\n${doc}\n\nPayload${named}:\n\n${memberTable(p, payload, linkReports)}`);
  }
  if (problems.length) throw new Error(`reference: events:\n${problems.join('\n')}`);
  return page('Events', 'events.md', [
    INTRO,
    EXAMPLE,
    `## The ${summary.length} events`,
    table(['event', 'when'], summary),
    ...sections,
  ]);
}
