/** The fence a lease writes with: its lock name and fencing token (see `LedgerStore.put`). */
import type { Fence, Lease } from '../engine/spi.js';

export function fenceOf(lease: Lease): Fence {
  return { lockName: lease.name, token: lease.token };
}
