/**
 * `messageMetadata`: normalises `messages.metadata`: keys to snake_case, `undefined` values dropped.
 *
 * ### No inverse
 * The normalisation is not injective, so it has no exact inverse: `{ userId: 1 }` and `{ user_id: 1 }`
 * both become `{ user_id: 1 }`, and a dropped `undefined` cannot be told from a key that was never there.
 * Its data migration therefore has no `reverse`, and the SDK rolls it back from the originals its backup
 * step saved before each batch.
 *
 * - Only the top-level keys of `metadata` are renamed by default; `{ deep: true }` also renames the keys of
 *   nested plain objects (including objects inside arrays). Leave it off when metadata holds maps keyed by
 *   data (header names, user ids), whose keys must not change.
 * - Two keys that normalise to the same name (`userId` and `user_id`) throw `TRANSFORM_CONFLICT` naming
 *   both keys and the message, rather than silently dropping one of the values.
 * - `forward` returns `null` when nothing would change (already normalised, or no metadata), so a re-run
 *   writes nothing. Metadata that is neither an object nor `null`/missing throws `TRANSFORM_INVALID_INPUT`.
 */
import { TransformError, TransformErrorCode } from '../errors.js';
import { describeType, isPlainObject, objectFromEntries } from '../internal/plain.js';
import { rowKey } from '../internal/row-key.js';
import type { RowKey } from '../errors.js';
import type { SyncTransformer } from '../transformer.js';
import type { MessageDocument } from './message-document.js';
import { MESSAGE_KEY_COLUMNS } from './message-document.js';

export interface MessageMetadataOptions {
  /** Also rename keys of nested plain objects (and of objects inside arrays). Default is `false`. */
  readonly deep?: boolean;
}

const NAME = 'messageMetadata';

/**
 * `userId` → `user_id`, `HTTPStatus` → `http_status`, `X-Request-Id` → `x_request_id`, `a b` → `a_b`.
 * A word starts at an upper-case letter that follows a lower-case letter or digit, or that follows an
 * upper-case letter and precedes a lower-case one (`HTTPStatus`); runs of whitespace and hyphens become
 * `_`; the result is lower-cased. "Upper-case" means "changed by lower-casing", so letters without a
 * lower-case form (e.g. `𝒜`) never start a word and the function is idempotent. Snake_case keys are
 * unchanged.
 */
export function toSnakeCase(key: string): string {
  const chars = Array.from(key);
  let out = '';
  chars.forEach((char, index) => {
    const previous = chars[index - 1];
    const next = chars[index + 1];
    if (
      isUpper(char) &&
      previous !== undefined &&
      (isLowerOrDigit(previous) || (isUpper(previous) && next !== undefined && isLower(next)))
    ) {
      out += '_';
    }
    out += char;
  });
  return out.replace(/[\s-]+/gu, '_').toLowerCase();
}

const isUpper = (char: string): boolean => char.toLowerCase() !== char;
const isLower = (char: string): boolean => /^\p{Ll}$/u.test(char) && !isUpper(char);
const isLowerOrDigit = (char: string): boolean => isLower(char) || /^\p{Nd}$/u.test(char);

/** Create a `messageMetadata` transformer with non-default options. */
export function createMessageMetadata(
  options: MessageMetadataOptions = {},
): SyncTransformer<MessageDocument, MessageDocument> {
  const deep = options.deep ?? false;

  const normalise = (value: Record<string, unknown>, path: string, key: RowKey | undefined) => {
    let changed = false;
    const origins = new Map<string, string>();
    const entries: Array<[string, unknown]> = [];
    for (const [name, item] of Object.entries(value)) {
      if (item === undefined) {
        changed = true;
        continue;
      }
      const snake = toSnakeCase(name);
      if (snake !== name) changed = true;
      const other = origins.get(snake);
      if (other !== undefined) {
        throw new TransformError({
          code: TransformErrorCode.Conflict,
          transformer: NAME,
          reason: `keys "${other}" and "${name}" both normalise to "${snake}"`,
          field: `${path}.${snake}`,
          key,
        });
      }
      origins.set(snake, name);
      const nested = deep ? normaliseValue(item, `${path}.${snake}`, key) : { value: item, changed: false };
      if (nested.changed) changed = true;
      entries.push([snake, nested.value]);
    }
    return changed ? { value: objectFromEntries(entries), changed } : { value, changed };
  };

  const normaliseValue = (
    item: unknown,
    path: string,
    key: RowKey | undefined,
  ): { value: unknown; changed: boolean } => {
    if (isPlainObject(item)) return normalise(item, path, key);
    if (Array.isArray(item)) {
      let changed = false;
      const mapped = item.map((element: unknown, index) => {
        const result = normaliseValue(element, `${path}[${index}]`, key);
        if (result.changed) changed = true;
        return result.value;
      });
      return changed ? { value: mapped, changed } : { value: item, changed };
    }
    return { value: item, changed: false };
  };

  return {
    name: NAME,
    forward: (doc) => {
      if (!isPlainObject(doc)) {
        throw new TransformError({
          code: TransformErrorCode.InvalidInput,
          transformer: NAME,
          reason: `expected a message document, got ${describeType(doc)}`,
        });
      }
      const metadata: unknown = doc.metadata;
      if (metadata === null || metadata === undefined) return null;
      const key = rowKey(doc, MESSAGE_KEY_COLUMNS);
      if (!isPlainObject(metadata)) {
        throw new TransformError({
          code: TransformErrorCode.InvalidInput,
          transformer: NAME,
          reason: `metadata must be an object, got ${describeType(metadata)}`,
          field: 'metadata',
          key,
        });
      }
      const result = normalise(metadata, 'metadata', key);
      return result.changed ? { ...doc, metadata: result.value } : null;
    },
  };
}

/**
 * `messages.metadata`: top-level keys to snake_case, `undefined` values dropped. No inverse (lossy):
 * roll back from the SDK's backups.
 */
export const messageMetadata = createMessageMetadata();
