/** A small live progress view over the migrator's events: a line per finished migration, a progress line per batch. */
import type { Migrator } from '@mcp/migrate-core';

export class ProgressPrinter {
  readonly #out: NodeJS.WritableStream;
  readonly #tty: boolean;
  readonly #shards = new Map<string, { processed: number; total: number | undefined; rate: number }>();
  #lastPrint = 0;
  #pendingLine = false;

  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
    this.#tty = Boolean((out as { isTTY?: boolean }).isTTY);
  }

  attach(migrator: Migrator): void {
    migrator.on('lock:wait', (e) =>
      this.line(`waiting for ${e.lock} (held by ${e.holder?.owner ?? 'another runner'})`),
    );
    migrator.on('plan', (e) =>
      this.line(
        e.plan.pending
          ? `plan: ${e.plan.pending} step(s) pending over ${e.plan.shards.filter((s) => s.steps.length).length} shard(s)`
          : 'plan: nothing pending: every shard is up to date',
      ),
    );
    migrator.on('shard:retry', (e) =>
      this.line(`retry ${e.attempt} of ${e.migrationId} on ${e.shardId}: ${e.error.message}`),
    );
    migrator.on('shard:failed', (e) => this.line(`✗ ${e.migrationId} on ${e.shardId}: ${e.error.message}`));
    migrator.on('migration:done', (e) => {
      this.#shards.clear();
      this.line(
        `✓ ${e.migrationId}: applied on ${e.applied.length} shard(s)${e.failed.length ? `, failed on ${e.failed.join(', ')}` : ''}`,
      );
    });
    migrator.on('batch', (e) => {
      this.#shards.set(e.shardId, { processed: e.processed, total: e.total, rate: e.rate });
      this.#progress(e.migrationId);
    });
  }

  line(text: string): void {
    if (this.#pendingLine && this.#tty) this.#out.write('\n');
    this.#pendingLine = false;
    this.#out.write(`${text}\n`);
  }

  stop(): void {
    if (this.#pendingLine && this.#tty) this.#out.write('\n');
    this.#pendingLine = false;
  }

  #progress(migrationId: string): void {
    const now = Date.now();
    if (now - this.#lastPrint < (this.#tty ? 100 : 500)) return;
    this.#lastPrint = now;
    const parts = [...this.#shards]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, s]) => {
        const pct = s.total ? Math.floor((100 * s.processed) / s.total) : 0;
        return `${id} ${pct.toString().padStart(3)}%`;
      });
    const rate = [...this.#shards.values()].reduce((n, s) => n + s.rate, 0);
    const text = `  ${migrationId}: ${parts.join('  ')}  ${Math.round(rate).toLocaleString('en-US')} docs/s`;
    if (this.#tty) {
      this.#out.write(`\r${text}`);
      this.#pendingLine = true;
    } else this.#out.write(`${text}\n`);
  }
}
