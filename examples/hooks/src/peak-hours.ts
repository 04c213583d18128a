/**
 * A host that refuses to migrate during its peak hours. `beforeRun` refuses a whole run that would
 * start in them (nothing is applied anywhere); `beforeStep` refuses each step that would start in
 * them, so a long run that reaches the peak stops there and the next run (off-peak) goes on.
 * The clock is injected, so tests and this example can say what time it is.
 */
import type { MigratorHooks } from '@mcp/migrate-core';

export interface PeakHours {
  /** First peak hour (UTC), inclusive. */
  readonly from: number;
  /** Last peak hour (UTC), exclusive. */
  readonly to: number;
}

export function offPeakOnly(clock: () => Date, peak: PeakHours = { from: 9, to: 18 }): MigratorHooks {
  const refuseInPeak = () => {
    const now = clock();
    const hour = now.getUTCHours();
    // Throwing is how a hook vetoes: the run (or step) ends with MIGRATE_VETOED and this message as its reason.
    if (hour >= peak.from && hour < peak.to)
      throw new Error(`peak hours ${peak.from}:00-${peak.to}:00 UTC (now ${now.toISOString().slice(11, 16)})`);
  };
  return { beforeRun: refuseInPeak, beforeStep: refuseInPeak };
}
