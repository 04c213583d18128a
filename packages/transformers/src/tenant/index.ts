export * from './tenant-settings.js';
export * from './tenant-limits-defaults.js';
