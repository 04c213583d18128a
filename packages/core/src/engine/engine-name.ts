/** The engines the platform runs. Other names are allowed for third-party adapters. */
export type EngineName = 'postgres' | 'mongodb' | (string & {});
