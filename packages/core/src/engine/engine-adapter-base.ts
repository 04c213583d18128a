/**
 * Defaults for third-party engine adapters, as Kysely's `dialect-adapter-base.ts`: members added to
 * {@link EngineAdapter} later get a default here, so an adapter written against an older contract
 * keeps working. Spread {@link engineAdapterDefaults} into an object adapter, or extend
 * {@link EngineAdapterBase}.
 *
 * ### Examples
 * ```ts
 * const engine: EngineAdapter<MyHandle> = {
 *   ...engineAdapterDefaults,
 *   name: 'cockroach',
 *   shards,
 *   shard: (id) => shards.get(id)!,
 *   close: async () => {},
 *   classifyError: (error) => (isRetryErrorOf(error) ? errorClass('serialization') : engineAdapterDefaults.classifyError(error)),
 * };
 * ```
 */
import { compareKeys } from './key-order.js';
import type { EngineCapabilities } from './capabilities.js';
import type { KeyValue } from './data-store.js';
import type { EngineAdapter, EngineName, EngineTerms, ShardAdapter, ShardDescriptor } from './engine-adapter.js';
import { unclassified, type ErrorClass } from './error-reason.js';

/** Every flag `false`: nothing optional is assumed. */
const NO_CAPABILITIES: EngineCapabilities = Object.freeze({
  transactions: false,
  transactionalDdl: false,
  changeCapture: false,
});

/** The default key of a data migration that declares none. */
const DEFAULT_KEY: readonly string[] = Object.freeze(['id']);

/** Default terms: rows live in a table whose key must be a unique index. */
export const DEFAULT_TERMS: EngineTerms = Object.freeze({
  target: 'table',
  uniqueKey: 'it must be exactly the fields of a unique index',
});

/** The members of {@link EngineAdapter} that have a default. */
export type EngineAdapterDefaults = Pick<
  EngineAdapter,
  'capabilities' | 'classifyError' | 'defaultKey' | 'compareKeys' | 'terms'
>;

/**
 * Defaults of the members an adapter may leave to the SDK: no capabilities, errors unclassified
 * (`unknown`; retryable only when the error says `retryable: true`), key `['id']`, the SDK's key
 * order ({@link compareKeys}: MongoDB's BSON type order, strings by code point), the `table` terms.
 */
export const engineAdapterDefaults: EngineAdapterDefaults = Object.freeze({
  capabilities: NO_CAPABILITIES,
  classifyError: unclassified,
  defaultKey: DEFAULT_KEY,
  compareKeys,
  terms: DEFAULT_TERMS,
});

/** A class-based adapter's base: implement `name`, `shards`, `shard` and `close`; override the rest as needed. */
export abstract class EngineAdapterBase<Handle = unknown> implements EngineAdapter<Handle> {
  abstract readonly name: EngineName;
  abstract readonly shards: readonly ShardDescriptor[];
  abstract shard(id: string): ShardAdapter<Handle>;
  abstract close(): Promise<void>;
  readonly capabilities: EngineCapabilities = NO_CAPABILITIES;
  readonly defaultKey: readonly string[] = DEFAULT_KEY;
  readonly terms: EngineTerms = DEFAULT_TERMS;

  classifyError(error: unknown): ErrorClass {
    return unclassified(error);
  }

  compareKeys(a: KeyValue, b: KeyValue): number {
    return compareKeys(a, b);
  }
}
