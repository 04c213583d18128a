/**
 * A demo cipher for the credentials example: AES-256-GCM under named keys, `<keyId>:<nonce>:<tag>:<data>`
 * (base64url), with the credential's channel and type as associated data. Use your KMS in a service.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export type Keyring = Readonly<Record<string, Buffer>>;
interface Context {
  readonly channel_id: unknown;
  readonly credential_type: unknown;
}

const aad = (ctx: Context) => Buffer.from(`${String(ctx.channel_id)}/${String(ctx.credential_type)}`);

export function seal(keys: Keyring, keyId: string, plaintext: string, ctx: Context): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keys[keyId]!, nonce).setAAD(aad(ctx));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [keyId, nonce, cipher.getAuthTag(), data]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join(':');
}

export function open(keys: Keyring, sealed: string, ctx: Context): string {
  const [keyId, nonce, tag, data] = sealed.split(':');
  const key = keys[keyId ?? ''];
  if (!key || nonce === undefined || tag === undefined || data === undefined) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url')).setAAD(aad(ctx));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}

/** Two fixed demo keys (never use fixed keys for real secrets). */
export const DEMO_KEYS: Keyring = { k1: Buffer.alloc(32, 1), k2: Buffer.alloc(32, 2) };
