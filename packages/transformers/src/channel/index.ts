export * from './channel-config.js';
export * from './channel-credentials-reencrypt.js';
