// The migrations, imported explicitly (the main way; a directory path works too).
import platformSchema from './0001-platform-schema.js';
import seed from './0002-seed-example-tenants.js';
import region from './0003-tenants-region.js';
import backfill from './0004-backfill-tenant-region.js';
import regionIndex from './0005-tenants-region-index.js';
import paddedNames from './0006-tenant-names-padded.js';

export const migrations = [platformSchema, seed, region, backfill, regionIndex, paddedNames];
