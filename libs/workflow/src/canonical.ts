import type { WorkflowDefinition } from './types.js';

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      Object.defineProperty(out, key, {
        value: sortKeys((value as Record<string, unknown>)[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/**
 * JSON of a definition with object keys sorted at every level (array order kept: task order and
 * needs order are part of the definition). Two definitions are the same workflow version exactly
 * when these strings are equal, so ingest can tell "unchanged" from "updated".
 */
export function canonicalDefinitionJson(def: WorkflowDefinition): string {
  return JSON.stringify(sortKeys(def));
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
