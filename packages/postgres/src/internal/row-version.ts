/**
 * Row versions for compare-and-set: read beside each row in a scan, compared in the guarded
 * `UPDATE`. Internal.
 */

/**
 * A row's version: md5 of its binary send form, which depends on no session setting (TimeZone,
 * DateStyle, IntervalStyle, extra_float_digits, bytea_output) and differs for any two stored
 * values that differ (microseconds, float -0, numeric scale, jsonb 0.0, json text).
 */
export const ROW_VERSION = 'md5(record_send(r.*))';

/**
 * The version of rows of a table with a column type that has no binary send function (in core
 * PostgreSQL only `aclitem`): md5 of the row's text form under the session's settings, marked `t:`.
 * Weaker only if a session changes output settings between a batch's read and its write (then a
 * row may look changed and is re-read, which is safe).
 */
export const TEXT_VERSION = `'t:' || md5(ROW(r.*)::text)`;

/** Result column of the version in a scan: not a plain identifier, so no table column can have it. */
export const VERSION_FIELD = 'mcp-migrate row version';

/** Whether `version` was computed with {@link TEXT_VERSION}. */
export const isTextVersion = (version: string | undefined): boolean => version?.startsWith('t:') === true;
