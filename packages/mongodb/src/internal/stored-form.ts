/**
 * Documents as the transform sees them and as the server stores them.
 *
 * The driver promotes Int32, Double and (safe) Long values to JS numbers, so a document that went
 * through JavaScript and back comes out with other BSON types (Long 5 → Int32 5, Double 1.0 →
 * Int32 1). The adapter therefore reads raw BSON and decodes it twice: the promoted form, exactly as
 * the driver gives it by default, is what `scan` returns and what transforms see; the unpromoted
 * form is attached to that row (core's `attachStoredForm`) and is what backups, restores, copies,
 * checksums and the untouched parts of a write use. A value the transform did not change is written
 * from the stored form, never from its JS promotion.
 */
import { BSON, type AnyBulkWriteOperation, type Document } from 'mongodb';
import { attachRowSize, attachStoredForm, sameValue, storedFormOf } from '@mcp/migrate-core/engine';
import type { Row, RowPatch } from '@mcp/migrate-core/engine';
import { keyFilter } from './keyset.js';

/** Read options that make the driver hand back each document's BSON bytes. */
export const RAW_READ = { raw: true } as const;

/** What the driver decodes by default (set explicitly: a host client may have changed its own defaults). */
const PROMOTED = {
  promoteValues: true,
  promoteLongs: true,
  promoteBuffers: false,
  bsonRegExp: false,
  useBigInt64: false,
} as const;

/** Decoding that keeps every BSON type: Int32, Double (-0 too), Long, regex options, Binary subtypes. */
export const STORED = {
  promoteValues: false,
  promoteLongs: false,
  promoteBuffers: false,
  bsonRegExp: true,
  useBigInt64: false,
} as const;

/** The promoted row of one raw document, with its stored form and its size (the raw BSON length) attached. */
export function decodeRow(bytes: Uint8Array): Row {
  const row = BSON.deserialize(bytes, PROMOTED) as Row;
  attachRowSize(row, bytes.byteLength);
  return attachStoredForm(row, () => BSON.deserialize(bytes, STORED));
}

/** The stored form of a document, decoded from its raw bytes. */
export function decodeStored(bytes: Uint8Array): Document {
  return BSON.deserialize(bytes, STORED);
}

/** The stored form the adapter attached to `row`, or `undefined` for a row it did not read. */
export function storedDocument(row: Row): Document | undefined {
  const stored = storedFormOf(row);
  return stored === row || stored === null || typeof stored !== 'object' ? undefined : (stored as Document);
}

function isPlain(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === Object.prototype || proto === null;
}

const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * `after`, except that every part equal to the same part of `before` (the promoted read) is taken
 * from `stored` (the same part as stored), recursively through documents and arrays (by index).
 * So a changed array or sub-document keeps the BSON types of its untouched elements.
 */
export function keepStored(before: unknown, stored: unknown, after: unknown): unknown {
  if (stored === undefined) return after;
  if (sameValue(before, after)) return stored;
  if (Array.isArray(before) && Array.isArray(after) && Array.isArray(stored)) {
    return after.map((v: unknown, i) => (i < before.length ? keepStored(before[i], stored[i], v) : v));
  }
  if (isPlain(before) && isPlain(after) && isPlain(stored)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(after))
      if (v !== undefined) out[k] = has(before, k) ? keepStored(before[k], stored[k], v) : v;
    return out;
  }
  return after;
}

/** A field name usable as one segment of a dotted update path. */
function pathSegment(name: string): boolean {
  return name !== '' && !name.includes('.') && !name.startsWith('$');
}

/** `$set`/`$unset` paths that turn `before` into `after` at `path`. */
interface Paths {
  readonly set: Record<string, unknown>;
  readonly unset: Record<string, ''>;
}

/**
 * Adds the paths for one changed field. Two plain sub-documents (as read and as stored) are
 * descended into with dotted paths, so untouched siblings are not sent at all; anything else (an
 * array, a scalar, a sub-document with a key that a path cannot name) is set whole, keeping the
 * stored form of its untouched parts.
 */
function addPaths(out: Paths, path: string, before: unknown, stored: unknown, after: unknown): void {
  // Without a stored form (a row this adapter did not read), paths still leave siblings alone.
  const descend =
    isPlain(before) &&
    isPlain(after) &&
    (stored === undefined || isPlain(stored)) &&
    Object.keys(before).every(pathSegment) &&
    Object.keys(after).every(pathSegment);
  if (!descend) {
    out.set[path] = keepStored(before, stored, after);
    return;
  }
  const inner: Paths = { set: {}, unset: {} };
  for (const [k, v] of Object.entries(after)) {
    if (v === undefined) continue;
    if (!has(before, k)) inner.set[`${path}.${k}`] = v;
    else if (!sameValue(before[k], v)) addPaths(inner, `${path}.${k}`, before[k], stored?.[k], v);
  }
  for (const k of Object.keys(before))
    if (before[k] !== undefined && (!has(after, k) || after[k] === undefined)) inner.unset[`${path}.${k}`] = '';
  // Nothing differs field by field (e.g. another prototype): set the sub-document whole.
  if (Object.keys(inner.set).length === 0 && Object.keys(inner.unset).length === 0)
    out.set[path] = keepStored(before, stored, after);
  Object.assign(out.set, inner.set);
  Object.assign(out.unset, inner.unset);
}

/**
 * The write of one patch: `updateOne(key, { $set, $unset })` with top-level fields and dotted paths
 * into sub-documents, sending only what changed. A top-level field whose name an update path cannot
 * express (`a.b`, `$x`) makes it a `replaceOne` of the stored document with the changes applied,
 * which keeps the untouched fields' BSON types as well (but, unlike `$set`, would overwrite a field
 * another writer changed in between). Never an upsert: a document that vanished is not brought back.
 */
export function patchWrite(key: readonly string[], patch: RowPatch): AnyBulkWriteOperation<Document> {
  const filter = keyFilter(key, Object.fromEntries(key.map((k, i) => [k, patch.key[i]])));
  const stored = storedDocument(patch.before);
  const fields = [...Object.keys(patch.set), ...patch.unset];
  if (!fields.every(pathSegment)) {
    const after: Row = {};
    for (const [k, v] of Object.entries(patch.before)) if (!patch.unset.includes(k)) after[k] = v;
    Object.assign(after, patch.set);
    return { replaceOne: { filter, replacement: keepStored(patch.before, stored, after) as Document } };
  }
  const paths: Paths = { set: {}, unset: {} };
  for (const [k, v] of Object.entries(patch.set)) addPaths(paths, k, patch.before[k], stored?.[k], v);
  for (const k of patch.unset) paths.unset[k] = '';
  const update: Document = {};
  if (Object.keys(paths.set).length) update.$set = paths.set;
  if (Object.keys(paths.unset).length) update.$unset = paths.unset;
  return { updateOne: { filter, update } };
}
