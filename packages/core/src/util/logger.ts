/** The logger a host passes in (pino, winston and console all fit). Every line is redacted first. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const noopLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

import { redact, redactValue } from '../errors/redact.js';

/** Wraps a host logger so that messages and fields are redacted, and adds fixed fields. */
export function redactingLogger(base: Logger, fixed: Record<string, unknown> = {}): Logger {
  const wrap =
    (level: keyof Logger) =>
    (message: string, fields?: Record<string, unknown>): void =>
      base[level](redact(message), redactValue({ ...fixed, ...fields }));
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
