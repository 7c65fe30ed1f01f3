import { findCycle, formatCycle, upstreamOf } from '@relay/dag';
import { isJsonObject, type JsonValue, scanReferences } from '@relay/template';
import { type DocPathSegment, isMapping, type RawIssue, suggest } from './path.js';
import { describe } from './schema.js';

/** Tasks as found in the document: id -> its needs (only the string entries). */
export type NeedsGraph = Map<string, string[]>;

/** Reads each task's needs from the raw document (a string need counts as a one-item list). */
export function readNeeds(tasks: Record<string, unknown>): NeedsGraph {
  const graph: NeedsGraph = new Map();
  for (const [id, task] of Object.entries(tasks)) {
    const needs = isMapping(task) ? task.needs : undefined;
    const list = typeof needs === 'string' ? [needs] : Array.isArray(needs) ? needs : [];
    graph.set(
      id,
      list.filter((n): n is string => typeof n === 'string'),
    );
  }
  return graph;
}

/**
 * Checks every `needs` entry: it names a task, not the task itself, and appears once. Returns the
 * issues and the graph of valid edges (for cycle and upstream checks).
 */
export function checkNeeds(tasks: Record<string, unknown>): { issues: RawIssue[]; graph: NeedsGraph } {
  const issues: RawIssue[] = [];
  const graph: NeedsGraph = new Map();
  const ids = Object.keys(tasks);
  for (const [id, needs] of readNeeds(tasks)) {
    const task = tasks[id];
    const listed = isMapping(task) && Array.isArray(task.needs);
    const at = (i: number): DocPathSegment[] => (listed ? ['tasks', id, 'needs', i] : ['tasks', id, 'needs']);
    const valid: string[] = [];
    // A set, not `valid.includes`: a join with k needs would cost O(k^2) (100k needs: minutes).
    const seen = new Set<string>();
    needs.forEach((need, i) => {
      if (need === id) issues.push({ path: at(i), message: `task "${id}" cannot need itself` });
      else if (!Object.hasOwn(tasks, need)) {
        issues.push({ path: at(i), message: `needs unknown task ${describe(need)}${suggest(need, ids)}` });
      } else if (seen.has(need)) issues.push({ path: at(i), message: `lists "${need}" more than once` });
      else {
        seen.add(need);
        valid.push(need);
      }
    });
    graph.set(id, valid);
  }
  return { issues, graph };
}

/** Reports every distinct cycle (up to 10), each at the `needs` of its first task. */
export function checkCycles(graph: NeedsGraph): RawIssue[] {
  const issues: RawIssue[] = [];
  const work = new Map([...graph].map(([id, needs]) => [id, [...needs]]));
  for (let n = 0; n < 10; n++) {
    const cycle = findCycle(work);
    if (!cycle) break;
    const [first = ''] = cycle;
    issues.push({ path: ['tasks', first, 'needs'], message: `cycle: ${formatCycle(cycle)}` });
    // Drop the closing edge so the next search finds a different cycle.
    const from = cycle[cycle.length - 2] ?? '';
    const to = cycle[cycle.length - 1] ?? '';
    work.set(
      from,
      (work.get(from) ?? []).filter((need) => need !== to),
    );
  }
  return issues;
}

function walkStrings(
  value: unknown,
  path: DocPathSegment[],
  visit: (s: string, p: DocPathSegment[]) => void,
): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value))
    for (const [i, item] of value.entries()) walkStrings(item, [...path, i], visit);
  else if (isMapping(value))
    for (const [k, item] of Object.entries(value)) walkStrings(item, [...path, k], visit);
}

/**
 * Answers "is `candidate` upstream of `id`?" for many references of one task: a direct need in
 * O(1) (a set of its needs, built on first use), anything else from the task's upstream set,
 * computed once (O(V+E)) on the first reference that is not a direct need. Asking
 * `isUpstream` per reference cost O(V+E) each: a sink with 100,000 needs and as many references
 * was quadratic.
 */
function upstreamTest(graph: NeedsGraph, id: string): (candidate: string) => boolean {
  let direct: Set<string> | undefined;
  let all: Set<string> | undefined;
  return (candidate) => {
    direct ??= new Set(graph.get(id) ?? []);
    if (direct.has(candidate)) return true;
    all ??= upstreamOf(graph, id);
    return all.has(candidate);
  };
}

/**
 * Checks the templates of a task's `with`: valid syntax, and every `tasks.X` reference names
 * another task upstream of this one (reachable through needs).
 */
export function checkTemplates(
  id: string,
  value: unknown,
  graph: NeedsGraph,
  ids: readonly string[],
): RawIssue[] {
  const issues: RawIssue[] = [];
  const isUpstreamOfTask = upstreamTest(graph, id);
  walkStrings(value, ['tasks', id, 'with'], (s, path) => {
    const scan = scanReferences(s);
    for (const err of scan.errors) issues.push({ path, message: err.message });
    for (const ref of scan.references) {
      if (ref.kind !== 'task') continue;
      const other = ref.taskId ?? '';
      if (other === id) {
        issues.push({ path, message: `${ref.expression}: a task cannot read its own output` });
      } else if (!graph.has(other)) {
        issues.push({ path, message: `${ref.expression}: unknown task "${other}"${suggest(other, ids)}` });
      } else if (!isUpstreamOfTask(other)) {
        issues.push({
          path,
          message: `${ref.expression}: task "${other}" is not upstream of "${id}"; add it to needs (directly or through another task)`,
        });
      }
    }
  });
  return issues;
}

/** Finds values YAML can hold but JSON cannot (`.inf`, `.nan`, binary, dates) under `path`. */
export function checkJson(value: unknown, path: DocPathSegment[]): RawIssue[] {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return [];
  if (typeof value === 'number') {
    return Number.isFinite(value) ? [] : [{ path, message: `must be JSON: ${value} is not a JSON number` }];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => checkJson(item, [...path, i]));
  if (isJsonObject(value as JsonValue) && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.entries(value as object).flatMap(([k, item]) => checkJson(item, [...path, k]));
  }
  return [{ path, message: 'must be JSON (null, boolean, number, string, list or mapping)' }];
}
