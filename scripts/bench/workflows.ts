/** Workflow documents (JSON form of the YAML) of the bench; every task is a no-op. */

type Doc = { id: string; tasks: Record<string, { needs?: string[]; type: 'noop' }> };

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** root -> `width` parallel tasks -> sink (`width + 2` tasks). */
export function fanoutWorkflow(id: string, width: number): Doc {
  const tasks: Doc['tasks'] = { root: { type: 'noop' } };
  const digits = String(width).length;
  const middle: string[] = [];
  for (let i = 1; i <= width; i += 1) {
    const task = `t${pad(i, digits)}`;
    middle.push(task);
    tasks[task] = { needs: ['root'], type: 'noop' };
  }
  tasks.sink = { needs: middle, type: 'noop' };
  return { id, tasks };
}

/** A 10-task tree: a -> b1..b3, each b -> two c (c1..c6). */
export function treeWorkflow(id: string): Doc {
  const tasks: Doc['tasks'] = { a: { type: 'noop' } };
  for (let b = 1; b <= 3; b += 1) {
    tasks[`b${b}`] = { needs: ['a'], type: 'noop' };
    for (let c = 1; c <= 2; c += 1) tasks[`c${(b - 1) * 2 + c}`] = { needs: [`b${b}`], type: 'noop' };
  }
  return { id, tasks };
}

/** Number of tasks of {@link treeWorkflow}. */
export const TREE_TASKS = 10;

/** s0001 -> s0002 -> ... (`length` steps). */
export function chainWorkflow(id: string, length: number): Doc {
  const tasks: Doc['tasks'] = {};
  for (let i = 1; i <= length; i += 1) {
    tasks[`s${pad(i, 4)}`] = i === 1 ? { type: 'noop' } : { needs: [`s${pad(i - 1, 4)}`], type: 'noop' };
  }
  return { id, tasks };
}
