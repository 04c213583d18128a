import type { InvertibleSyncTransformer, InvertibleTransformer } from '../../src/index.js';

/**
 * What a forward migration followed by a reverse migration leaves in a row: `null` means "unchanged" in
 * both directions, and the reverse migration runs over every row, including ones `forward` left alone.
 */
export function restoreSync<T>(transformer: InvertibleSyncTransformer<T, T>, row: T): T {
  const migrated = transformer.forward(row) ?? row;
  return transformer.inverse(migrated) ?? migrated;
}

export async function restore<T>(transformer: InvertibleTransformer<T, T>, row: T): Promise<T> {
  const migrated = (await transformer.forward(row)) ?? row;
  return (await transformer.inverse(migrated)) ?? migrated;
}

/** Freeze deeply, so a transformer that mutates its input throws in strict mode. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

/** A structuredClone that keeps the test's expectation independent of the transformer's output. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Run `fn` and return what it threw (failing the test if it did not throw). */
export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

/** Await `value` (a transformer result: a promise or not) and return what it rejected with. */
export async function rejected(value: unknown): Promise<unknown> {
  try {
    await value;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}
