import type { z } from 'zod';
import type { PropertyPath } from './property-path.js';
import type { SourceLocator } from './source-locator.js';

/** Parses `value` with a zod schema; the first issue becomes a positioned ConfigError. */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  base: PropertyPath,
  locator: SourceLocator,
): z.output<S> {
  // jitless: a configuration is parsed once per process; compiling zod's fast path (new
  // Function per object shape) costs more than it saves (a third of loadService's CPU time).
  const result = schema.safeParse(value, { error: issueMessage, jitless: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = [...base, ...issue.path.map((k) => (typeof k === 'number' ? k : String(k)))];
  throw locator.error('NIMBUS_CONFIG_INVALID', path, issue.message);
}

/** Fallback wording for issues the schemas do not word themselves. */
function issueMessage(issue: { code?: string; input?: unknown; expected?: string }) {
  if (issue.code !== 'invalid_type') return undefined;
  if (issue.input === undefined) return 'is required';
  const expected = issue.expected === 'record' ? 'object' : (issue.expected ?? 'value');
  return `must be ${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}`;
}
