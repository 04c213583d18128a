/**
 * Composition of row transformers.
 *
 * `compose(a, b)` runs `a` then `b` forward and `b`'s inverse then `a`'s inverse backward. Because `null`
 * means "leave the row unchanged", a `null` from one step feeds the *unchanged* row to the next step (it
 * does not skip the rest), and the composite returns `null` only when every step did. That is only
 * well-typed when every step maps a row type to itself, which is what a data migration's `transform` is,
 * so `compose` takes `Transformer<T, T>` steps.
 *
 * The composite has an `inverse` only if every step has one; it is then exact whenever each step's is
 * (each step's inverse undoes that step on the row it produced). It is synchronous when every step is.
 */
import { andThen } from './internal/maybe-promise.js';
import type {
  InvertibleSyncTransformer,
  InvertibleTransformer,
  MaybePromise,
  SyncTransformer,
  Transformer,
} from './transformer.js';

type Steps<X> = readonly [X, X, ...X[]];

/**
 * Compose two or more row transformers, applied left to right. Default name: `compose(a, b)`; spread
 * into a new object to rename it (`{ ...compose(a, b), name: 'messagesV2' }`).
 *
 * ### Examples
 * ```ts
 * const messagesV2 = compose(messageContent, messageStatus); // invertible, synchronous
 * defineDataMigration({ id: '0042-messages-v2', engine: 'mongodb', collection: 'messages', key: '_id',
 *   transform: messagesV2.forward, reverse: messagesV2.inverse });
 * ```
 */
export function compose<T>(...steps: Steps<InvertibleSyncTransformer<T, T>>): InvertibleSyncTransformer<T, T>;
export function compose<T>(...steps: Steps<SyncTransformer<T, T>>): SyncTransformer<T, T>;
export function compose<T>(...steps: Steps<InvertibleTransformer<T, T>>): InvertibleTransformer<T, T>;
export function compose<T>(...steps: Steps<Transformer<T, T>>): Transformer<T, T>;
export function compose<T>(...steps: Steps<Transformer<T, T>>): Transformer<T, T> {
  const list = [...steps];
  for (const step of list) {
    if (typeof step?.forward !== 'function' || typeof step.name !== 'string') {
      throw new TypeError('compose: every step must be a transformer with a name and a forward function');
    }
  }
  const name = `compose(${list.map((step) => step.name).join(', ')})`;
  const forward = (input: T): MaybePromise<T | null> =>
    run(
      input,
      list.map((step) => step.forward),
    );

  const inverses = list.map((step) => step.inverse);
  if (!inverses.every((inverse): inverse is (output: T) => MaybePromise<T | null> => typeof inverse === 'function')) {
    return { name, forward };
  }
  const inverse = (output: T): MaybePromise<T | null> => run(output, [...inverses].reverse());
  return { name, forward, inverse };
}

/** Run `fns` in order, treating `null` as "unchanged"; `null` overall when no step changed the row. */
function run<T>(input: T, fns: ReadonlyArray<(row: T) => MaybePromise<T | null>>): MaybePromise<T | null> {
  const step = (index: number, row: T, changed: boolean): MaybePromise<T | null> => {
    const fn = fns[index];
    if (fn === undefined) return changed ? row : null;
    // `undefined` is treated like `null`, as the SDK's `transform` contract does, for hand-written steps.
    return andThen(fn(row), (result) =>
      result === null || result === undefined ? step(index + 1, row, changed) : step(index + 1, result, true),
    );
  };
  return step(0, input, false);
}
