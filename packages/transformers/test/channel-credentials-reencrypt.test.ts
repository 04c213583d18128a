import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  TransformErrorCode,
  channelCredentialsReencrypt,
  compose,
  isInvertible,
  isTransformError,
} from '../src/index.js';
import type { ChannelCredentialRow, CredentialCipher, CredentialContext } from '../src/index.js';
import { text } from './support/arbitraries.js';
import { caught, deepFreeze, rejected, restore } from './support/helpers.js';

/**
 * A deterministic stand-in for a KMS: `<keyId>:<base64 of the plaintext, bound to the credential>`.
 * Its decrypt fails the way careless libraries do: with the ciphertext in the message.
 */
function fakeKey(keyId: string) {
  const bind = (context: CredentialContext) => `${context.channel_id}/${context.credential_type}`;
  return {
    encrypt: async (plaintext: string, context: CredentialContext) =>
      `${keyId}:${Buffer.from(`${bind(context)}|${plaintext}`, 'utf8').toString('base64')}`,
    decrypt: async (ciphertext: string, context: CredentialContext) => {
      if (!ciphertext.startsWith(`${keyId}:`)) throw new Error(`cannot decrypt ${ciphertext} with ${keyId}`);
      const decoded = Buffer.from(ciphertext.slice(keyId.length + 1), 'base64').toString('utf8');
      const prefix = `${bind(context)}|`;
      if (!decoded.startsWith(prefix)) throw new Error(`context mismatch for ${decoded}`);
      return decoded.slice(prefix.length);
    },
    isCurrent: (ciphertext: string) => ciphertext.startsWith(`${keyId}:`),
  };
}
const oldKey = fakeKey('k2024');
const newKey = fakeKey('k2025');
const rotation = { decrypt: oldKey.decrypt, encrypt: newKey.encrypt };
const back = { decrypt: newKey.decrypt, encrypt: oldKey.encrypt };

const context = { channel_id: 'ch-1', credential_type: 'api_key' } as const;
const credential = async (plaintext: string, extra: Record<string, unknown> = {}): Promise<ChannelCredentialRow> => ({
  ...context,
  encrypted_value: await oldKey.encrypt(plaintext, context),
  ...extra,
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('channelCredentialsReencrypt.forward', () => {
  it('re-encrypts under the new key and passes the other columns through', async () => {
    const rotate = channelCredentialsReencrypt(rotation);
    const row = deepFreeze(await credential('s3cr3t', { id: 9, rotated_at: null }));
    const result = await rotate.forward(row);
    expect(result).toStrictEqual({ ...row, encrypted_value: await newKey.encrypt('s3cr3t', context) });
    expect(await newKey.decrypt(result!.encrypted_value!, context)).toBe('s3cr3t');
  });

  it('accepts synchronous host functions and hands them the credential context', async () => {
    const seen: CredentialContext[] = [];
    const rotate = channelCredentialsReencrypt({
      decrypt: (c: string, ctx) => (seen.push(ctx), c.toUpperCase()),
      encrypt: (p: string) => `v2:${p}`,
    });
    expect(await rotate.forward({ channel_id: 5, credential_type: 'token', encrypted_value: 'abc' })).toStrictEqual({
      channel_id: 5,
      credential_type: 'token',
      encrypted_value: 'v2:ABC',
    });
    expect(seen).toEqual([{ channel_id: 5, credential_type: 'token' }]);
  });

  it('leaves rows without a value, and rows already under the new key (isCurrent), alone', async () => {
    const decrypt = vi.fn(oldKey.decrypt);
    const rotate = channelCredentialsReencrypt({ decrypt, encrypt: newKey.encrypt, isCurrent: newKey.isCurrent });
    expect(await rotate.forward({ ...context, encrypted_value: null })).toBeNull();
    expect(await rotate.forward({ ...context })).toBeNull();
    const already = await newKey.encrypt('x', context);
    expect(await rotate.forward({ ...context, encrypted_value: already })).toBeNull();
    expect(decrypt).not.toHaveBeenCalled();
  });

  it('without isCurrent, a re-run over a re-encrypted row fails (documented) instead of double-encrypting', async () => {
    const rotate = channelCredentialsReencrypt(rotation);
    const once = await rotate.forward(await credential('pw'));
    expect(await rejected(rotate.forward(once!))).toMatchObject({ code: TransformErrorCode.CryptoFailed });
  });

  it('is async even when everything is synchronous, so compose returns a promise', async () => {
    const rotate = channelCredentialsReencrypt({ decrypt: (c: string) => c, encrypt: (p: string) => `${p}!` });
    const touch = { name: 'touch', forward: (row: ChannelCredentialRow) => ({ ...row, touched: true }) };
    const both = compose(rotate, touch);
    const pending = both.forward({ ...context, encrypted_value: 'a' });
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toStrictEqual({ ...context, encrypted_value: 'a!', touched: true });
  });
});

describe('channelCredentialsReencrypt.inverse', () => {
  it('exists only when the reverse pair is given', () => {
    expect(isInvertible(channelCredentialsReencrypt(rotation))).toBe(false);
    expect('inverse' in channelCredentialsReencrypt(rotation)).toBe(false);
    expect(isInvertible(channelCredentialsReencrypt({ ...rotation, reverse: back }))).toBe(true);
  });

  it('restores every credential exactly with a deterministic cipher (property)', async () => {
    const rotate = channelCredentialsReencrypt({
      ...rotation,
      isCurrent: newKey.isCurrent,
      reverse: { ...back, isCurrent: oldKey.isCurrent },
    });
    await fc.assert(
      fc.asyncProperty(
        text,
        fc.constantFrom('api_key', 'token', 'ключ'),
        fc.oneof(fc.uuid(), fc.nat()),
        async (secret, type, channelId) => {
          const ctx = { channel_id: channelId, credential_type: type };
          const row = deepFreeze({ ...ctx, encrypted_value: await oldKey.encrypt(secret, ctx), note: 'kept' });
          const migrated = await rotate.forward(row);
          expect(migrated?.encrypted_value?.startsWith('k2025:')).toBe(true);
          expect(await rotate.inverse(migrated!)).toStrictEqual(row);
          expect(await restore(rotate, row)).toStrictEqual(row);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('with randomised encryption, restores the plaintext but not the ciphertext bytes (documented)', async () => {
    let nonce = 0;
    const randomised = (keyId: string): CredentialCipher => ({
      encrypt: (p) => `${keyId}:${nonce++}:${p}`,
      decrypt: (c) => {
        const [id, , ...rest] = c.split(':');
        if (id !== keyId) throw new Error('wrong key');
        return rest.join(':');
      },
    });
    const oldR = randomised('old');
    const newR = randomised('new');
    const rotate = channelCredentialsReencrypt({
      decrypt: oldR.decrypt,
      encrypt: newR.encrypt,
      reverse: { decrypt: newR.decrypt, encrypt: oldR.encrypt },
    });
    const row = { ...context, encrypted_value: await oldR.encrypt('pa:ss', context) };
    const restored = await restore(rotate, row);
    expect(restored.encrypted_value).not.toBe(row.encrypted_value);
    expect(await oldR.decrypt(restored.encrypted_value!, context)).toBe('pa:ss');
  });
});

describe('channelCredentialsReencrypt never exposes secrets', () => {
  const SECRET = 'plain-SECRET-value-Ω';

  /** Every way an error may be printed or serialised. */
  function renderings(error: unknown): string[] {
    const e = error as Error;
    return [
      String(e),
      e.message,
      e.stack ?? '',
      JSON.stringify(e),
      inspect(e, { depth: 10, showHidden: true }),
      JSON.stringify(
        Object.getOwnPropertyNames(e).map((p) => [p, String((e as unknown as Record<string, unknown>)[p])]),
      ),
    ];
  }

  async function failures() {
    const ciphertext = await oldKey.encrypt(SECRET, context);
    const row = { ...context, encrypted_value: ciphertext };
    const cases: Array<{ step: string; error: unknown }> = [];
    // decrypt with the wrong key: the host error quotes the ciphertext.
    cases.push({
      step: 'decrypt',
      error: await rejected(
        channelCredentialsReencrypt({ decrypt: newKey.decrypt, encrypt: newKey.encrypt }).forward(row),
      ),
    });
    // encrypt fails quoting the plaintext.
    cases.push({
      step: 'encrypt',
      error: await rejected(
        channelCredentialsReencrypt({
          decrypt: oldKey.decrypt,
          encrypt: (p: string) => {
            throw new Error(`refusing to encrypt ${p} (ciphertext ${ciphertext})`);
          },
        }).forward(row),
      ),
    });
    // isCurrent rejects with the ciphertext as the reason itself.
    cases.push({
      step: 'isCurrent',
      error: await rejected(
        channelCredentialsReencrypt({
          ...rotation,
          isCurrent: (c: string) => Promise.reject(Object.assign(new Error(c), { code: c, secret: SECRET })),
        }).forward(row),
      ),
    });
    // encrypt returns nothing.
    cases.push({
      step: 'encrypt',
      error: await rejected(
        channelCredentialsReencrypt({ decrypt: oldKey.decrypt, encrypt: () => undefined as never }).forward(row),
      ),
    });
    return { ciphertext, cases };
  }

  it('errors name the step, channel_id and credential_type, and nothing from the value or the host error', async () => {
    const { ciphertext, cases } = await failures();
    for (const { step, error } of cases) {
      expect(isTransformError(error)).toBe(true);
      expect(error).toMatchObject({
        code: TransformErrorCode.CryptoFailed,
        transformer: 'channelCredentialsReencrypt',
        field: 'encrypted_value',
        key: { channel_id: 'ch-1', credential_type: 'api_key' },
      });
      expect((error as Error).message).toContain(step);
      expect((error as Error).cause).toBeUndefined();
      for (const rendered of renderings(error)) {
        expect(rendered).not.toContain(SECRET);
        expect(rendered).not.toContain(ciphertext);
        expect(rendered).not.toContain(ciphertext.slice(6, 30));
      }
    }
  });

  it('never writes to the console', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation(() => undefined),
    );
    await failures();
    await channelCredentialsReencrypt(rotation).forward(await credential(SECRET));
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it('holds for arbitrary secrets (property)', async () => {
    await fc.assert(
      fc.asyncProperty(text, async (raw) => {
        const secret = `S3CR3T:${raw}`;
        const ciphertext = await oldKey.encrypt(secret, context);
        const error = await rejected(
          channelCredentialsReencrypt({
            decrypt: oldKey.decrypt,
            encrypt: (p: string) => Promise.reject(new Error(`bad input ${p} from ${ciphertext}`)),
          }).forward({ ...context, encrypted_value: ciphertext }),
        );
        for (const rendered of renderings(error)) {
          expect(rendered).not.toContain(secret);
          expect(rendered).not.toContain(ciphertext);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('rejects a malformed row without quoting its value', async () => {
    const rotate = channelCredentialsReencrypt(rotation);
    const error = await rejected(
      rotate.forward({ channel_id: 'ch-1', credential_type: 7, encrypted_value: SECRET } as never),
    );
    expect(error).toMatchObject({
      code: TransformErrorCode.InvalidInput,
      field: 'credential_type',
      key: { channel_id: 'ch-1' },
    });
    expect(String(error)).not.toContain(SECRET);
  });
});

describe('channelCredentialsReencrypt options', () => {
  it.each<[string, unknown, string]>([
    ['no decrypt', { encrypt: () => 'x' }, 'decrypt'],
    ['no encrypt', { decrypt: () => 'x' }, 'encrypt'],
    ['a non-function isCurrent', { ...rotation, isCurrent: true }, 'isCurrent'],
    ['a reverse pair without encrypt', { ...rotation, reverse: { decrypt: () => 'x' } }, 'reverse.encrypt'],
    ['a non-object reverse', { ...rotation, reverse: 'nope' }, 'reverse'],
    ['no options', undefined, 'options'],
  ])('rejects %s', (_label, options, field) => {
    expect(caught(() => channelCredentialsReencrypt(options as never))).toMatchObject({
      code: TransformErrorCode.InvalidConfig,
      field,
    });
  });

  it('accepts a class-based cipher and calls its methods with their `this`', async () => {
    class Kms {
      readonly #prefix = 'kms:';
      decrypt(c: string) {
        return c.slice(this.#prefix.length);
      }
      encrypt(p: string) {
        return `${this.#prefix}${p}`;
      }
      isCurrent(c: string) {
        return c.startsWith(`${this.#prefix}${this.#prefix}`);
      }
    }
    const rotate = channelCredentialsReencrypt(new Kms());
    expect(await rotate.forward({ ...context, encrypted_value: 'kms:v' })).toMatchObject({ encrypted_value: 'kms:v' });
    expect(await rotate.forward({ ...context, encrypted_value: 'kms:kms:v' })).toBeNull();
  });
});
