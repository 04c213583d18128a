import type { MaybePromise } from '../transformer.js';

/** `value` is a thenable (a Promise or a promise-like from another realm / library). */
export function isPromiseLike<T>(value: MaybePromise<T>): value is Promise<T> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Apply `next` to `value`, staying synchronous when `value` is not a promise. */
export function andThen<T, R>(value: MaybePromise<T>, next: (resolved: T) => MaybePromise<R>): MaybePromise<R> {
  return isPromiseLike(value) ? Promise.resolve(value).then(next) : next(value);
}
