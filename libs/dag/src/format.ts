/**
 * Renders a cycle as returned by `findCycle` for people: `['a', 'b', 'c', 'a']` -> `'a -> b -> c -> a'`.
 */
export function formatCycle(cycle: readonly string[]): string {
  return cycle.join(' -> ');
}
