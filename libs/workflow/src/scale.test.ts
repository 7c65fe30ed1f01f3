import { describe, expect, it } from 'vitest';
import { canonicalDefinitionJson } from './canonical.js';
import { parseWorkflow } from './source.js';

/** root -> `width` parallel tasks -> sink, as the bench registers it (`width + 2` tasks). */
function fanOutIn(width: number): { id: string; tasks: Record<string, { needs?: string[]; type: string }> } {
  const tasks: Record<string, { needs?: string[]; type: string }> = { root: { type: 'noop' } };
  const middle: string[] = [];
  for (let i = 1; i <= width; i++) {
    const task = `t${String(i).padStart(6, '0')}`;
    middle.push(task);
    tasks[task] = { needs: ['root'], type: 'noop' };
  }
  tasks.sink = { needs: middle, type: 'noop' };
  return { id: 'wide', tasks };
}

/** The same document as YAML (block mapping of tasks, flow lists of needs). */
function toYaml(doc: ReturnType<typeof fanOutIn>): string {
  const lines = [`id: ${doc.id}`, 'tasks:'];
  for (const [id, task] of Object.entries(doc.tasks)) {
    lines.push(`  ${id}:`, `    type: ${task.type}`);
    if (task.needs) lines.push(`    needs: [${task.needs.join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}

/** Milliseconds of the fastest of `times` runs of `work` (the least disturbed by the shared machine). */
function fastest(times: number, work: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    work();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

/**
 * Registering parses, validates, normalizes and canonicalizes the document. At 10x the tasks a linear
 * registration takes ~10x the time (GC makes it somewhat more); the quadratic one this guards against
 * (a duplicate-needs scan per need, yaml's duplicate-key scan per key) took >= 50x: 1.5 s at 10k, 77 s at
 * 100k. The bound of 30x leaves room for a noisy shared machine and still fails the quadratic code.
 */
const MAX_RATIO = 30;

describe('registering a 100,000-task fan-out/fan-in', () => {
  it.each<['json' | 'yaml', (doc: ReturnType<typeof fanOutIn>) => string]>([
    ['json', (doc) => JSON.stringify(doc)],
    ['yaml', toYaml],
  ])('takes linear time (%s)', { timeout: 120_000 }, (format, render) => {
    const register = (text: string, tasks: number) => () => {
      const result = parseWorkflow(text, { format });
      if (!result.ok) throw new Error(result.issues.map((issue) => issue.message).join('; '));
      expect(result.definition.tasks).toHaveLength(tasks);
      expect(result.definition.tasks.at(-1)?.needs).toHaveLength(tasks - 2);
      canonicalDefinitionJson(result.definition);
    };
    const small = render(fanOutIn(10_000));
    const large = render(fanOutIn(100_000));
    register(small, 10_002)(); // warm up the JIT
    const smallMs = fastest(3, register(small, 10_002));
    const largeMs = fastest(1, register(large, 100_002));
    expect(largeMs / smallMs, `10k: ${smallMs.toFixed(0)} ms, 100k: ${largeMs.toFixed(0)} ms`).toBeLessThan(
      MAX_RATIO,
    );
  });

  it('still reports a repeated need of the sink, once, at its position', { timeout: 60_000 }, () => {
    const doc = fanOutIn(100_000);
    doc.tasks.sink?.needs?.push('t000001');
    const result = parseWorkflow(JSON.stringify(doc), { format: 'json' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([
      expect.objectContaining({
        path: 'tasks.sink.needs[100000]',
        message: 'lists "t000001" more than once',
      }),
    ]);
  });
});
