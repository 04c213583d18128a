/**
 * The transformers that need no options, ready to register: `createRegistry(builtinTransformers)`.
 * `tenantLimitsDefaults` and `channelCredentialsReencrypt` are factories (they need defaults / the host's
 * cipher), so register the instances you create.
 */
import { channelConfig } from './channel/channel-config.js';
import { messageContent } from './message/message-content.js';
import { messageMetadata } from './message/message-metadata.js';
import { messageStatus } from './message/message-status.js';
import { tenantSettings } from './tenant/tenant-settings.js';
import type { AnyTransformer } from './transformer.js';

export const builtinTransformers: readonly AnyTransformer[] = Object.freeze([
  messageContent,
  messageMetadata,
  messageStatus,
  tenantSettings,
  channelConfig,
]);
