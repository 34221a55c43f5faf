/**
 * What a target receives for an event: the whole event, `Input` (fixed JSON text), `InputPath`
 * (the part of the event a JSONPath selects) or `InputTransformer` (values picked by
 * `InputPathsMap`, written into `InputTemplate` at `<name>` placeholders).
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
 */
import type { TargetSettings } from './events-store.js';

export interface RuleContext {
  ruleArn: string;
  ruleName: string;
  ingestionTime: string;
}

/** The JSON paths EventBridge accepts: `$`, `$.a.b`, `$.a[0]`, `$['a-b']`. */
export function isJsonPath(path: string): boolean {
  return parsePath(path) !== undefined;
}

export function selectPath(document: unknown, path: string): unknown {
  const steps = parsePath(path);
  if (!steps) return undefined;
  let at: unknown = document;
  for (const step of steps) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string | number, unknown>)[step];
  }
  return at;
}

function parsePath(path: string): (string | number)[] | undefined {
  if (!path.startsWith('$')) return undefined;
  const steps: (string | number)[] = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]/y;
  re.lastIndex = 1;
  while (re.lastIndex < path.length) {
    const m = re.exec(path);
    if (!m) return undefined;
    steps.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : m[3]!));
  }
  return steps;
}

/** The text the target is given. */
export function targetInput(target: TargetSettings, event: unknown, rule: RuleContext): string {
  if (target.Input !== undefined) return target.Input;
  if (target.InputPath !== undefined) {
    return JSON.stringify(selectPath(event, target.InputPath) ?? null);
  }
  const transformer = target.InputTransformer;
  if (!transformer) return JSON.stringify(event);
  const values: Record<string, unknown> = {
    'aws.events.rule-arn': rule.ruleArn,
    'aws.events.rule-name': rule.ruleName,
    'aws.events.event.ingestion-time': rule.ingestionTime,
    'aws.events.event': event,
    'aws.events.event.json': event,
  };
  for (const [name, path] of Object.entries(transformer.InputPathsMap ?? {})) {
    values[name] = selectPath(event, path);
  }
  return fillTemplate(transformer.InputTemplate, values);
}

/**
 * Replaces `<name>` placeholders. Inside a quoted JSON string a value goes in as text (a string
 * unquoted and escaped, anything else as its JSON, escaped); outside quotes as JSON. Unknown
 * names are left as written; a path that selected nothing is `null` (empty inside quotes).
 */
export function fillTemplate(template: string, values: Record<string, unknown>): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === '\\' && inString) {
      out += c + (template[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') {
      inString = !inString;
      out += c;
      continue;
    }
    if (c === '<') {
      const end = template.indexOf('>', i);
      const name = end > i ? template.slice(i + 1, end) : '';
      if (name && Object.hasOwn(values, name)) {
        const value = values[name];
        if (inString) {
          const text =
            value === undefined || value === null
              ? ''
              : typeof value === 'string'
                ? value
                : JSON.stringify(value);
          out += JSON.stringify(text).slice(1, -1);
        } else {
          out += JSON.stringify(value ?? null);
        }
        i = end;
        continue;
      }
    }
    out += c;
  }
  return out;
}
