/**
 * Checksums of migration definitions: what was declared, never the compiled function text. And the
 * key a data migration that declares none is defined with, until `createMigrator` binds it to its
 * engine's adapter.
 */
import type { EngineAdapter, EngineName } from '../engine/spi.js';
import { sha256 } from '../util/row-set-hash.js';
import type { Migration } from './migration-types.js';

/**
 * Prefix of the checksums this SDK writes. A ledger checksum without it was written by an SDK that
 * hashed `Function.prototype.toString` (different under tsx, tsc and bundlers): see {@link isLegacyChecksum}.
 */
export const CHECKSUM_PREFIX = 'v2:';

/**
 * The checksum of a definition: what was declared, never the emitted function text, so that it is
 * the same whichever compiler, target or bundler produced the code. A step given as SQL text would
 * be hashed as that text; a function step is represented by its presence and the declared `version`.
 * Batch settings are left out on purpose: they are in the checkpoint fingerprint (a resume must
 * match them), and tuning them on an applied migration is not an edit of what it did.
 */
export function declaredChecksum(parts: readonly unknown[]): string {
  return CHECKSUM_PREFIX + sha256(JSON.stringify(parts));
}

/**
 * A checksum in the format of SDKs before `v2:` checksums (a bare sha256 hex digest of the compiled
 * function text): accepted once and upgraded by `run()`. Anything else that differs is drift.
 */
export function isLegacyChecksum(checksum: string): boolean {
  return /^[0-9a-f]{64}$/.test(checksum);
}

/** The checksum of `m` combined with the text of the file it was loaded from, as written. */
export function withSourceText(m: Migration, sourceText: string): Migration {
  return keepKeyDefault(
    m,
    Object.freeze({
      ...m,
      checksum: declaredChecksum([m.checksum, sha256(sourceText.replace(/\r\n/g, '\n'))]),
    } as Migration),
  );
}

/**
 * The key a data migration that declares none is defined with, before it is bound to an engine:
 * `['_id']` for `mongodb`, `['id']` for any other engine name. It is part of the migration's
 * checksum, so it stays what it always was (changing it would make every such migration drift);
 * `createMigrator` then binds the migration to its engine, whose adapter's `defaultKey` decides
 * (see {@link bindToEngine}). The memory engine takes it as its own default for its name.
 */
export function definedDefaultKey(engine: EngineName): readonly string[] {
  return engine === 'mongodb' ? ['_id'] : ['id'];
}

/** Data migrations whose key was not declared (it is {@link definedDefaultKey} until bound). */
export const KEY_DEFAULTED = new WeakSet<object>();

export function keepKeyDefault<T extends Migration>(from: Migration, to: T): T {
  if (KEY_DEFAULTED.has(from)) KEY_DEFAULTED.add(to);
  return to;
}

/**
 * `m` bound to the adapter of its engine: a data migration that declares no key gets the adapter's
 * `defaultKey`. The checksum is left as defined. Returns `m` itself when nothing changes.
 */
export function bindToEngine(m: Migration, adapter: Pick<EngineAdapter, 'defaultKey'>): Migration {
  if (m.kind !== 'data' || !KEY_DEFAULTED.has(m)) return m;
  const key = adapter.defaultKey;
  if (key.length === m.target.key.length && key.every((k, i) => k === m.target.key[i])) return m;
  return keepKeyDefault(m, Object.freeze({ ...m, target: { name: m.target.name, key: [...key] } }));
}

export const stepPart = (f: unknown): string | boolean => (typeof f === 'string' ? f : typeof f === 'function');
