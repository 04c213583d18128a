/** The holder row of `mcp_migrate_locks` as read, and its `LockStatus`: shared by both lock variants. Internal. */
import type { LockStatus } from '@mcp/migrate-core/engine';

/** A time far in the past: an `expires_at` that means "free". */
export const EPOCH = new Date(0);

export interface HolderRow {
  owner: string;
  token: string | number;
  since: Date | string;
  heartbeat_at: Date | string;
  expires_at: Date | string | null;
}

function toIso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

export function toStatus(name: string, row: HolderRow): LockStatus {
  return {
    name,
    owner: row.owner,
    token: Number(row.token),
    since: toIso(row.since),
    heartbeatAt: toIso(row.heartbeat_at),
    expiresAt: row.expires_at === null ? null : toIso(row.expires_at),
  };
}
