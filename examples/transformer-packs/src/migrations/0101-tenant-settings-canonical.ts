import { defineDataMigration } from '@mcp/migrate-core';
import { groupedTransform, tenantSettings, type TenantSettings } from '@mcp/migrate-transformers';

/** How older admin tools spelled the `webhooks_enabled` flag. */
const FLAG: Readonly<Record<string, boolean>> = {
  TRUE: true,
  True: true,
  '1': true,
  yes: true,
  FALSE: false,
  False: false,
  '0': false,
  no: false,
};

/**
 * A tenant's settings with `webhooks_enabled` and `retention_days` in canonical form: the pack keeps a
 * known key whose text is not canonical (`'TRUE'`, `'+30'`, `'007'`) verbatim in `extra`; this edit parses
 * it into the typed field, which the pack writes back as `'true'` / `'30'`. `null` when there is nothing
 * to fix, so such tenants are not written at all.
 */
export function canonicalSettings(settings: TenantSettings): TenantSettings | null {
  const { webhooks_enabled: flag, retention_days: days, ...extra } = settings.extra;
  const next: TenantSettings = { ...settings, extra };
  let changed = false;
  if (flag === undefined) {
    // absent: nothing to do
  } else if (flag !== null && Object.hasOwn(FLAG, flag)) {
    next.webhooks_enabled = FLAG[flag];
    changed = true;
  } else next.extra.webhooks_enabled = flag;
  if (days === undefined) {
    // absent: nothing to do
  } else if (days !== null && /^\+?\d{1,9}$/.test(days)) {
    next.retention_days = Number(days);
    changed = true;
  } else next.extra.retention_days = days;
  return changed ? next : null;
}

/**
 * `tenant_settings` holds one row per tenant and key, so the pack reads all of a tenant's rows at once:
 * a grouped migration (`groupBy: 'tenant_id'`, from `groupedTransform`) hands it whole tenants, and a
 * batch never splits one. No exact inverse ('TRUE' and 'yes' both become 'true'): rollback restores
 * the rows saved in the backup before each batch.
 */
export default defineDataMigration({
  id: '0101-tenant-settings-canonical',
  engine: 'postgres',
  table: 'tenant_settings',
  key: ['tenant_id', 'settings_key'],
  batchSize: 500,
  ...groupedTransform(tenantSettings, canonicalSettings),
  verify: (row) =>
    row.settings_key !== 'webhooks_enabled' ||
    row.settings_value === 'true' ||
    row.settings_value === 'false' ||
    row.settings_value === null ||
    `webhooks_enabled of ${String(row.tenant_id)} is not canonical`,
});
