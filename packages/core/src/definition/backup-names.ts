/**
 * Backup names of a set of data migrations must be distinct: two migrations sharing one backup
 * table/collection would restore each other's rows on rollback, and the first rollback would drop
 * the other's originals. `backupName` replaces characters and truncates to 63, so distinct ids can
 * map to one name (`0501-c.1` and `0501-c_1`); such a set is refused before anything runs.
 *
 * The names themselves are left as they are: backups of migrations applied (or in flight) under an
 * earlier version live under these names, and a rollback must find them.
 */
import { backupName } from '../data/backup.js';
import { DefinitionError, ErrorCode } from '../errors/errors.js';
import type { Migration } from './migration.js';

/** Throws `MIGRATE_BACKUP_NAME_COLLISION` naming both migrations when two data migrations share a backup name. */
export function checkBackupNames(migrations: readonly Migration[]): void {
  const byName = new Map<string, string>();
  for (const m of migrations) {
    if (m.kind !== 'data') continue;
    const name = backupName(m.id);
    const other = byName.get(name);
    if (other !== undefined && other !== m.id) {
      throw new DefinitionError(
        `Migration "${m.id}": field "id": its backup name "${name}" is also the backup name of migration "${other}" (non-word characters become "_" and names are cut at 63 characters); rename one of them`,
        { code: ErrorCode.BackupNameCollision, migrationId: m.id, field: 'id' },
      );
    }
    byName.set(name, m.id);
  }
}
