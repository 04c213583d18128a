// The platform's 16 configuration tables (DESIGN.md). Tenant-scoped tables lead their indexes with
// tenant_id; child tables reach the tenant through their parent (channel_configurations → channels,
// webhook_events → webhooks, role_permissions → roles/permissions). `permissions` is global.
import { defineMigration } from '@mcp/migrate-core';

const UP = `
CREATE TABLE tenants (
  id text PRIMARY KEY, name text NOT NULL, status text NOT NULL DEFAULT 'active',
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE tenant_settings (
  tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, settings_key text NOT NULL, settings_value jsonb,
  PRIMARY KEY (tenant_id, settings_key));
CREATE TABLE tenant_limits (
  tenant_id text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  message_limit integer NOT NULL, channel_limit integer NOT NULL, storage_limit bigint NOT NULL);
CREATE TABLE tenant_feature_flags (
  tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, feature_key text NOT NULL,
  enabled boolean NOT NULL DEFAULT false, configuration jsonb, PRIMARY KEY (tenant_id, feature_key));
CREATE TABLE channels (
  id text PRIMARY KEY, tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  channel_type text NOT NULL, status text NOT NULL DEFAULT 'active');
CREATE INDEX channels_tenant ON channels (tenant_id, channel_type);
CREATE TABLE channel_configurations (
  channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE, config_key text NOT NULL, config_value jsonb,
  PRIMARY KEY (channel_id, config_key));
CREATE TABLE channel_credentials (
  channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE, credential_type text NOT NULL,
  encrypted_value bytea NOT NULL, PRIMARY KEY (channel_id, credential_type));
CREATE TABLE webhooks (
  id text PRIMARY KEY, tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name text NOT NULL, url text NOT NULL, secret text, active boolean NOT NULL DEFAULT true);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id, active);
CREATE TABLE webhook_events (
  webhook_id text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE, event_type text NOT NULL,
  active boolean NOT NULL DEFAULT true, PRIMARY KEY (webhook_id, event_type));
CREATE TABLE webhook_deliveries (
  id text PRIMARY KEY, webhook_id text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE, event_id text NOT NULL,
  status text NOT NULL, attempts integer NOT NULL DEFAULT 0, last_attempt_at timestamptz);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, status);
CREATE TABLE message_templates (
  id text PRIMARY KEY, tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name text NOT NULL, content text NOT NULL, variables jsonb, channel_type text);
CREATE UNIQUE INDEX message_templates_tenant_name ON message_templates (tenant_id, name);
CREATE TABLE api_keys (
  id text PRIMARY KEY, tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, key_hash text NOT NULL UNIQUE,
  name text NOT NULL, permissions jsonb, created_at timestamptz NOT NULL DEFAULT now(), expires_at timestamptz);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, expires_at);
CREATE TABLE users (
  id text PRIMARY KEY, tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, username text NOT NULL,
  email text NOT NULL, password_hash text NOT NULL, role text NOT NULL);
CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, email);
CREATE TABLE roles (
  id text PRIMARY KEY, tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name text NOT NULL, description text);
CREATE UNIQUE INDEX roles_tenant_name ON roles (tenant_id, name);
CREATE TABLE permissions (id text PRIMARY KEY, name text NOT NULL UNIQUE, description text);
CREATE TABLE role_permissions (
  role_id text NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  permission_id text NOT NULL REFERENCES permissions (id) ON DELETE CASCADE, PRIMARY KEY (role_id, permission_id));
CREATE INDEX role_permissions_permission ON role_permissions (permission_id);
`;

const TABLES = [
  'role_permissions',
  'permissions',
  'roles',
  'users',
  'api_keys',
  'message_templates',
  'webhook_deliveries',
  'webhook_events',
  'webhooks',
  'channel_credentials',
  'channel_configurations',
  'channels',
  'tenant_feature_flags',
  'tenant_limits',
  'tenant_settings',
  'tenants',
];

export default defineMigration({
  id: '0001-platform-schema',
  engine: 'postgres',
  description: 'The 16 platform tables with keys, foreign keys and tenant-first indexes',
  up: async (client) => {
    await client.query(UP);
  },
  down: async (client) => {
    await client.query(`DROP TABLE ${TABLES.join(', ')}`);
  },
});
