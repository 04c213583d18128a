/**
 * `channelCredentialsReencrypt(cipher)`: re-encrypts `channel_credentials.encrypted_value` (key rotation)
 * through host-supplied, possibly async `decrypt` / `encrypt` functions (a KMS, a vault, a local key).
 *
 * ### Secrets
 * Plaintext and ciphertext only ever pass between the host's functions and the returned row. They are
 * never logged, never put in an error (message, properties, `cause`, `toString()`, `toJSON()`), and never
 * kept. When a host function throws, the `TransformError` (`TRANSFORM_CRYPTO_FAILED`) names the step
 * (`decrypt` / `encrypt` / `isCurrent`), the `channel_id` and the `credential_type` only; the host's own
 * error is deliberately dropped, because its message may quote the value. Log on the host side, inside
 * your functions, if you need the underlying reason.
 *
 * ### Inverse
 * Without `reverse` there is no inverse (the SDK rolls back from its backups). With
 * `reverse: { decrypt, encrypt }` (decrypt under the new key, encrypt under the old one) `inverse` exists
 * and restores a credential that decrypts under the old key to the same plaintext. It is byte-for-byte
 * exact only when the old `encrypt` is deterministic; with randomised encryption (a fresh IV/nonce per
 * call, as AES-GCM should be) the restored ciphertext differs from the original while decrypting to the
 * same value. Roll back from the SDK's backups when byte equality matters.
 *
 * ### Re-runs
 * A crashed batch is re-done, so `forward` may see rows it already re-encrypted, which the old key cannot
 * decrypt. Supply `isCurrent(ciphertext)` (e.g. "has the new key id prefix") so those rows are left alone
 * (`null`); `reverse.isCurrent` does the same for `inverse`. Without it, such a row fails with
 * `TRANSFORM_CRYPTO_FAILED`.
 */
import { TransformError, TransformErrorCode } from '../errors.js';
import type { Id } from '../internal/key-value-rows.js';
import { isId } from '../internal/key-value-rows.js';
import { describeType, isPlainObject } from '../internal/plain.js';
import type { InvertibleTransformer, MaybePromise, Transformer } from '../transformer.js';

/** Identifies the credential to the host's functions (e.g. as AEAD associated data or a key selector). */
export interface CredentialContext {
  readonly channel_id: Id;
  readonly credential_type: string;
}

/** One direction of a key rotation: decrypt under the source key, encrypt under the target key. */
export interface CredentialCipher<Ciphertext = string, Plaintext = string> {
  readonly decrypt: (ciphertext: Ciphertext, context: CredentialContext) => MaybePromise<Plaintext>;
  readonly encrypt: (plaintext: Plaintext, context: CredentialContext) => MaybePromise<Ciphertext>;
  /**
   * Optional: `true` when `ciphertext` is already under the target key, so the row is left alone (`null`).
   * Makes a re-run over already re-encrypted rows write nothing instead of failing. Default: always `false`.
   */
  readonly isCurrent?: (ciphertext: Ciphertext, context: CredentialContext) => MaybePromise<boolean>;
}

export interface ChannelCredentialsReencryptOptions<Ciphertext = string, Plaintext = string> extends CredentialCipher<
  Ciphertext,
  Plaintext
> {
  /** The opposite rotation (decrypt under the new key, encrypt under the old). Enables `inverse`. */
  readonly reverse?: CredentialCipher<Ciphertext, Plaintext>;
}

/**
 * A `channel_credentials` row. Other columns pass through untouched. `channel_id` and `credential_type`
 * are required at run time (a row without them throws `TRANSFORM_INVALID_INPUT`) but optional in the type,
 * so that `forward` accepts the SDK's generic row (`transform(row: Record<string, unknown>)`) without a cast.
 */
export interface ChannelCredentialRow<Ciphertext = string> {
  channel_id?: Id;
  credential_type?: string;
  /** `null` / missing: nothing to re-encrypt, the row is left alone. */
  encrypted_value?: Ciphertext | null;
  [column: string]: unknown;
}

const NAME = 'channelCredentialsReencrypt';

/**
 * Re-encrypt `channel_credentials.encrypted_value` with host-supplied functions; async.
 * Has an `inverse` only when `reverse` is given.
 *
 * ### Examples
 * ```ts
 * const rotate = channelCredentialsReencrypt({
 *   decrypt: (c, ctx) => kms.decrypt('key-2024', c, ctx),
 *   encrypt: (p, ctx) => kms.encrypt('key-2025', p, ctx),
 *   isCurrent: (c) => c.startsWith('key-2025:'),
 *   reverse: {
 *     decrypt: (c, ctx) => kms.decrypt('key-2025', c, ctx),
 *     encrypt: (p, ctx) => kms.encrypt('key-2024', p, ctx),
 *     isCurrent: (c) => c.startsWith('key-2024:'),
 *   },
 * });
 * ```
 */
export function channelCredentialsReencrypt<Ciphertext = string, Plaintext = string>(
  options: ChannelCredentialsReencryptOptions<Ciphertext, Plaintext> & {
    readonly reverse: CredentialCipher<Ciphertext, Plaintext>;
  },
): InvertibleTransformer<ChannelCredentialRow<Ciphertext>, ChannelCredentialRow<Ciphertext>>;
export function channelCredentialsReencrypt<Ciphertext = string, Plaintext = string>(
  options: ChannelCredentialsReencryptOptions<Ciphertext, Plaintext>,
): Transformer<ChannelCredentialRow<Ciphertext>, ChannelCredentialRow<Ciphertext>>;
export function channelCredentialsReencrypt<Ciphertext = string, Plaintext = string>(
  options: ChannelCredentialsReencryptOptions<Ciphertext, Plaintext>,
): Transformer<ChannelCredentialRow<Ciphertext>, ChannelCredentialRow<Ciphertext>> {
  if (typeof options !== 'object' || options === null) {
    throw configError('options', `options must be an object, got ${describeType(options)}`);
  }
  const forward = reencryptWith(checkCipher<Ciphertext, Plaintext>(options, ''));
  if (options.reverse === undefined) return { name: NAME, forward };
  const inverse = reencryptWith(checkCipher<Ciphertext, Plaintext>(options.reverse, 'reverse.'));
  return { name: NAME, forward, inverse };
}

type Row<C> = ChannelCredentialRow<C>;

function reencryptWith<C, P>(cipher: CredentialCipher<C, P>): (row: Row<C>) => Promise<Row<C> | null> {
  return async (row) => {
    const context = credentialContext(row);
    const ciphertext = row.encrypted_value;
    if (ciphertext === null || ciphertext === undefined) return null;
    if (cipher.isCurrent !== undefined) {
      // Called as a method so a class-based cipher keeps its `this`.
      const current = await callHost('isCurrent', context, () => cipher.isCurrent?.(ciphertext, context));
      if (current === true) return null;
    }
    const plaintext = await callHost('decrypt', context, () => cipher.decrypt(ciphertext, context));
    if (plaintext === null || plaintext === undefined) throw cryptoError('decrypt', context, 'returned no value');
    const next = await callHost('encrypt', context, () => cipher.encrypt(plaintext, context));
    if (next === null || next === undefined) throw cryptoError('encrypt', context, 'returned no value');
    return { ...row, encrypted_value: next };
  };
}

/**
 * Call a host function; on failure throw a `TransformError` that names only the step and the credential.
 * The host's error is not kept as `cause`: its message may quote the plaintext or the ciphertext.
 */
async function callHost<T>(step: string, context: CredentialContext, call: () => MaybePromise<T>): Promise<T> {
  try {
    return await call();
  } catch {
    throw cryptoError(step, context, 'failed');
  }
}

function credentialContext(row: unknown): CredentialContext {
  if (!isPlainObject(row)) {
    throw new TransformError({
      code: TransformErrorCode.InvalidInput,
      transformer: NAME,
      reason: `expected a channel_credentials row, got ${describeType(row)}`,
    });
  }
  const { channel_id: channelId, credential_type: credentialType } = row;
  if (!isId(channelId)) {
    throw new TransformError({
      code: TransformErrorCode.InvalidInput,
      transformer: NAME,
      reason: `channel_id must be a string or an integer, got ${describeType(channelId)}`,
      field: 'channel_id',
    });
  }
  if (typeof credentialType !== 'string') {
    throw new TransformError({
      code: TransformErrorCode.InvalidInput,
      transformer: NAME,
      reason: `credential_type must be a string, got ${describeType(credentialType)}`,
      field: 'credential_type',
      key: { channel_id: channelId },
    });
  }
  return Object.freeze({ channel_id: channelId, credential_type: credentialType });
}

function cryptoError(step: string, context: CredentialContext, what: string): TransformError {
  return new TransformError({
    code: TransformErrorCode.CryptoFailed,
    transformer: NAME,
    reason: `${step} ${what}`,
    field: 'encrypted_value',
    key: { channel_id: context.channel_id, credential_type: context.credential_type },
  });
}

function checkCipher<C, P>(cipher: unknown, prefix: string): CredentialCipher<C, P> {
  if (typeof cipher !== 'object' || cipher === null) {
    const field = prefix === '' ? 'options' : prefix.slice(0, -1);
    throw configError(field, `"${field}" must be an object with decrypt and encrypt functions`);
  }
  const candidate = cipher as Record<string, unknown>;
  for (const fn of ['decrypt', 'encrypt'] as const) {
    if (typeof candidate[fn] !== 'function') throw configError(`${prefix}${fn}`, `"${prefix}${fn}" must be a function`);
  }
  if (candidate.isCurrent !== undefined && typeof candidate.isCurrent !== 'function') {
    throw configError(`${prefix}isCurrent`, `"${prefix}isCurrent" must be a function when given`);
  }
  return cipher as CredentialCipher<C, P>;
}

function configError(field: string, reason: string): TransformError {
  return new TransformError({ code: TransformErrorCode.InvalidConfig, transformer: NAME, reason, field });
}
