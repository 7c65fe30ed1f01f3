import type { WorkflowDefinition } from './types.js';

/**
 * `JSON.stringify` replacer that hands over each plain object with its keys inserted in sorted
 * order (integer-like keys still enumerate first, as in any object). An object whose keys already
 * come sorted is passed through; copies are shallow and die young, so no sorted copy of a whole
 * 100,000-task definition is ever held next to its text.
 */
function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = (keys[i - 1] ?? '') <= (keys[i] ?? '');
  if (sorted) return value;
  const out: Record<string, unknown> = {};
  for (const key of keys.sort()) {
    // defineProperty, not assignment: a "__proto__" key stays a key.
    Object.defineProperty(out, key, {
      value: (value as Record<string, unknown>)[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * JSON of a definition with object keys sorted at every level (array order kept: task order and
 * needs order are part of the definition). Two definitions are the same workflow version exactly
 * when these strings are equal, so ingest can tell "unchanged" from "updated".
 */
export function canonicalDefinitionJson(def: WorkflowDefinition): string {
  return JSON.stringify(def, sortedKeys);
}

/** One task as the HTTP API lists it (SPEC section 5). */
export interface TaskSummary {
  id: string;
  needs: string[];
  type: string;
  requires_approval: boolean;
}

/** The `tasks` list of the workflow endpoints: `[{id, needs, type, requires_approval}]` in document order. */
export function taskSummary(def: WorkflowDefinition): TaskSummary[] {
  return def.tasks.map((t) => ({
    id: t.id,
    needs: [...t.needs],
    type: t.type,
    requires_approval: t.requiresApproval,
  }));
}
