/**
 * A small registry of transformers by name, so migrations, the CLI and tests can look one up
 * (`registry.get('messageContent')`) instead of importing it. Names are unique; registration order is kept.
 */
import { TransformError, TransformErrorCode } from './errors.js';
import type { AnyTransformer } from './transformer.js';

export interface TransformerRegistry {
  /**
   * Add a transformer. Throws a {@link TransformError} (`TRANSFORM_DUPLICATE_TRANSFORMER`) if its name is
   * taken, or (`TRANSFORM_INVALID_CONFIG`) if it has no name or no `forward`. Returns the registry.
   */
  readonly register: (transformer: AnyTransformer) => TransformerRegistry;
  /** The transformer named `name`. Throws `TRANSFORM_UNKNOWN_TRANSFORMER`, naming it, if there is none. */
  readonly get: (name: string) => AnyTransformer;
  /** Whether `name` is registered. */
  readonly has: (name: string) => boolean;
  /** The registered names, in registration order. */
  readonly list: () => string[];
}

const REGISTRY = 'registry';

/** Create an empty registry, or one holding `initial` (registered in order, duplicates rejected). */
export function createRegistry(initial: Iterable<AnyTransformer> = []): TransformerRegistry {
  const byName = new Map<string, AnyTransformer>();

  const registry: TransformerRegistry = {
    register(transformer) {
      if (
        typeof transformer !== 'object' ||
        transformer === null ||
        typeof transformer.name !== 'string' ||
        transformer.name.length === 0 ||
        typeof transformer.forward !== 'function'
      ) {
        throw new TransformError({
          code: TransformErrorCode.InvalidConfig,
          transformer: REGISTRY,
          reason: 'a transformer needs a non-empty name and a forward function',
        });
      }
      if (byName.has(transformer.name)) {
        throw new TransformError({
          code: TransformErrorCode.DuplicateTransformer,
          transformer: REGISTRY,
          reason: `a transformer named "${transformer.name}" is already registered`,
        });
      }
      byName.set(transformer.name, transformer);
      return registry;
    },
    get(name) {
      const found = byName.get(name);
      if (found === undefined) {
        const known = [...byName.keys()];
        throw new TransformError({
          code: TransformErrorCode.UnknownTransformer,
          transformer: REGISTRY,
          reason:
            `unknown transformer "${name}"; ` +
            (known.length > 0 ? `registered: ${known.join(', ')}` : 'none registered'),
        });
      }
      return found;
    },
    has: (name) => byName.has(name),
    list: () => [...byName.keys()],
  };

  for (const transformer of initial) registry.register(transformer);
  return registry;
}
