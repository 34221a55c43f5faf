import { TemplateError } from './template-error.js';

/**
 * Orders logical ids so every resource comes after the ones it refers to (depth-first, in
 * declaration order otherwise). A cycle is refused naming it, as CloudFormation does.
 * `edges(id)` lists the ids `id` depends on that are themselves in `ids`.
 */
export function dependencyOrder(
  ids: readonly string[],
  edges: (id: string) => readonly string[],
  pathOf: (id: string) => string,
): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, trail: string[]) => {
    const seen = state.get(id);
    if (seen === 'done') return;
    if (seen === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(id)), id].join(' -> ');
      throw new TemplateError(pathOf(id), `circular dependency between resources: ${cycle}`);
    }
    state.set(id, 'visiting');
    for (const next of edges(id)) visit(next, [...trail, id]);
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of ids) visit(id, []);
  return order;
}
