import { defineDataMigration } from '@mcp/migrate-core';
import { channelCredentialsReencrypt, rowTransform } from '@mcp/migrate-transformers';
import { open, seal, type Keyring } from '../demo-cipher.js';

/**
 * Re-encrypts `channel_credentials.encrypted_value` from key `k1` to key `k2` (AES-256-GCM, a fresh
 * nonce per value). `isCurrent` leaves values already under `k2` alone, so a re-done batch writes
 * nothing twice. No `reverse` pair: randomised encryption is not byte-exact in reverse, and the backup
 * is (see the transformers README).
 */
export function rotateCredentials(keys: Keyring) {
  return defineDataMigration({
    id: '0107-channel-credentials-rotate',
    engine: 'postgres',
    table: 'channel_credentials',
    key: ['channel_id', 'credential_type'],
    batchSize: 200,
    ...rowTransform(
      channelCredentialsReencrypt({
        decrypt: (ciphertext: string, ctx) => open(keys, ciphertext, ctx),
        encrypt: (plaintext: string, ctx) => seal(keys, 'k2', plaintext, ctx),
        isCurrent: (ciphertext: string) => ciphertext.startsWith('k2:'),
      }),
    ),
  });
}
