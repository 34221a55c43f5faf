import { ConfigError } from './config-error.js';
import type { NormalizeContext } from './context.js';
import { OTHER_KINDS } from './events/other.js';
import { nearestName } from './nearest-name.js';
import { formatPath, isPlainObject, type PropertyPath } from './property-path.js';
import { SUPPORT_TABLE, type SupportRule } from './support-table.js';

/** One segment of a table path: a key, `*` (any key) or `[]` (any list item). */
interface TableNode {
  rule?: SupportRule;
  children: Map<string, TableNode>;
}

const tree = buildTree(SUPPORT_TABLE);

/** Splits `functions.*.events[].http` into `functions`, `*`, `events`, `[]`, `http`. */
export function tableSegments(path: string): string[] {
  return path
    .split('.')
    .flatMap((part) => (part.endsWith('[]') ? [part.slice(0, -2), '[]'] : [part]));
}

function buildTree(rules: readonly SupportRule[]): TableNode {
  const root: TableNode = { children: new Map() };
  const nodeAt = (segments: string[]) => {
    let node = root;
    for (const segment of segments) {
      let child = node.children.get(segment);
      if (!child) {
        child = { children: new Map() };
        node.children.set(segment, child);
      }
      node = child;
    }
    return node;
  };
  for (const rule of rules) nodeAt(tableSegments(rule.path)).rule = rule;
  // The event types still waiting for a source have their own field lists (events/other.ts), so
  // a typo inside them is reported like any other unknown key.
  for (const [kind, spec] of Object.entries(OTHER_KINDS)) {
    for (const key of spec.known) nodeAt(['functions', '*', 'events', '[]', kind, key]);
  }
  return root;
}

/**
 * Reports every key the table marks as warned or refused, and every unknown key, in file order.
 * Warnings go to `ctx.warnings`; refused keys (and unknown keys under `configValidationMode:
 * error`) are all collected and returned, so the user sees every one of them at once.
 */
export function checkSupport(config: unknown, ctx: NormalizeContext): ConfigError[] {
  const refused: ConfigError[] = [];
  walk(tree, config, [], ctx, refused);
  return refused;
}

function walk(
  node: TableNode,
  value: unknown,
  path: PropertyPath,
  ctx: NormalizeContext,
  refused: ConfigError[],
): void {
  const item = node.children.get('[]');
  if (item) {
    // A list written as something else is the schema's to report.
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        visit(item, v, [...path, i], ctx, refused);
      });
    }
    return;
  }
  if (node.children.size === 0 || !isPlainObject(value)) return;
  const anyKey = node.children.get('*');
  for (const [key, child] of Object.entries(value)) {
    const known = anyKey ?? node.children.get(key);
    if (known) visit(known, child, [...path, key], ctx, refused);
    else reportUnknown(key, node, path, ctx, refused);
  }
}

function visit(
  node: TableNode,
  value: unknown,
  path: PropertyPath,
  ctx: NormalizeContext,
  refused: ConfigError[],
): void {
  const rule = node.rule;
  if (rule && value !== undefined && value !== null && (!rule.when || rule.when(value))) {
    const reason = (rule.reason ?? '').replaceAll('{fn}', functionKey(path));
    if (rule.status === 'refused') {
      refused.push(ctx.locator.error('NIMBUS_CONFIG_UNSUPPORTED', path, reason, true));
    } else if (rule.status === 'warned') {
      ctx.warnings.push(ctx.locator.warning(path, reason, { atKey: true }));
    }
  }
  walk(node, value, path, ctx, refused);
}

function functionKey(path: PropertyPath): string {
  return path[0] === 'functions' ? String(path[1]) : '';
}

function reportUnknown(
  key: string,
  parent: TableNode,
  parentPath: PropertyPath,
  ctx: NormalizeContext,
  refused: ConfigError[],
): void {
  if (ctx.validationMode === 'off') return;
  const isEventType =
    parentPath.length === 4 && parentPath[0] === 'functions' && parentPath[2] === 'events';
  const known = [...parent.children.keys()].filter((name) => name !== '*' && name !== '[]');
  const nearest = nearestName(key, known);
  const hint = nearest ? `; did you mean "${nearest}"?` : '';
  const what = isEventType
    ? `event type "${key}" is unknown${hint}`
    : `unknown property "${key}"${hint}`;
  const shownPath = isEventType ? [...parentPath, key] : parentPath;
  // An event type nobody knows would silently drop the route or trigger the user wrote, so it
  // fails the load in the default mode too; an unknown property is only ignored.
  if (ctx.validationMode === 'error' || isEventType) {
    const { line, column } = ctx.locator.keyPosition([...parentPath, key]);
    const where = { file: ctx.locator.file, line, column, detail: what };
    const path = formatPath(shownPath);
    refused.push(
      new ConfigError({ code: 'NIMBUS_CONFIG_INVALID', ...where, ...(path ? { path } : {}) }),
    );
    return;
  }
  const detail = `unknown property "${key}" (ignored)${hint}`;
  ctx.warnings.push(ctx.locator.warning([...parentPath, key], detail, { atKey: true, shownPath }));
}
