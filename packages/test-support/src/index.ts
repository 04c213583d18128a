/**
 * `@mcp/test-support` (private): what the tests of every package and of test/ share. Service
 * checks and the MCP_MIGRATE_REQUIRE_SERVICES gate (a skip is recorded for the banner of
 * scripts/test-summary.mjs), temporary databases, and the secrets tests' assertions.
 */
export * from './services.js';
export * from './databases.js';
export * from './mongo-fixture.js';
export * from './secrets.js';
