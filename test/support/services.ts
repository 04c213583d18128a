/**
 * Service discovery for suites that need a real server. Absent service: the suite is skipped with a
 * clear message, unless MCP_MIGRATE_REQUIRE_SERVICES=1 (CI), where absence is a failure.
 */
export const REQUIRE_SERVICES = process.env.MCP_MIGRATE_REQUIRE_SERVICES === '1';

export interface ServiceCheck {
  readonly name: string;
  /** `true` when usable, or the reason it is not. */
  readonly available: true | string;
}

/** Throws when a required service is absent; otherwise returns whether to run. */
export function shouldRun(check: ServiceCheck): boolean {
  if (check.available === true) return true;
  const message = `${check.name} is not available (${check.available}); start it with "bash scripts/services.sh start"`;
  if (REQUIRE_SERVICES) throw new Error(`MCP_MIGRATE_REQUIRE_SERVICES=1 but ${message}`);
  console.warn(`[skip] ${message}`);
  return false;
}
