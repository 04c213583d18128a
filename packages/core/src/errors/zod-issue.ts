/** How a zod validation failure is told to a user: the first issue's field path and what is wrong. */
import type { z } from 'zod';

/** The field of `error`'s first issue (`a.b`, the unknown keys, or `(root)`) and its message; `noun` names unknown keys. */
export function firstIssue(error: z.ZodError, noun: string): { field: string; detail: string } {
  const issue = error.issues[0]!;
  const unknown = issue.code === 'unrecognized_keys' ? issue.keys : undefined;
  const field = issue.path.length ? issue.path.join('.') : unknown ? unknown.join(', ') : '(root)';
  const detail = unknown ? `unknown ${noun}(s) ${unknown.map((k) => `"${k}"`).join(', ')}` : issue.message;
  return { field, detail };
}
