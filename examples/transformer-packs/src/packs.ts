/**
 * The example's migrations, one per transformer pack, and the engines they run on: PostgreSQL for
 * tenant_settings, channel_configurations, tenant_limits and channel_credentials, MongoDB for messages.
 */
import type { Migration } from '@mcp/migrate-core';
import type { Keyring } from './demo-cipher.js';
import tenantSettings from './migrations/0101-tenant-settings-canonical.js';
import { channelConfigCanonical, type Queryable } from './migrations/0102-channel-config-canonical.js';
import messageContent from './migrations/0103-messages-structured-content.js';
import messageStatus from './migrations/0104-messages-status-lowercase.js';
import messageMetadata from './migrations/0105-messages-metadata-snake-case.js';
import tenantLimits from './migrations/0106-tenant-limits-defaults.js';
import { rotateCredentials } from './migrations/0107-channel-credentials-rotate.js';

export function packMigrations(options: { poolOf: (shardId: string) => Queryable; keys: Keyring }): Migration[] {
  return [
    tenantSettings,
    channelConfigCanonical(options.poolOf),
    messageContent,
    messageStatus,
    messageMetadata,
    tenantLimits,
    rotateCredentials(options.keys),
  ];
}
