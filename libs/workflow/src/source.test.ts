// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow documents hold ${{ }} templates
import { describe, expect, it } from 'vitest';
import { parseWorkflow } from './source.js';
import type { WorkflowIssue } from './types.js';
import { validateWorkflow } from './validate.js';

function issuesOf(text: string, format?: 'json'): WorkflowIssue[] {
  const result = parseWorkflow(text, format ? { format } : {});
  if (result.ok) throw new Error('expected the workflow to be rejected');
  return result.issues;
}

/** Prefix that makes a task list valid around the task under test. */
const W = 'id: w\ntasks:\n';

describe('YAML syntax', () => {
  it.each<[string, string, string, number, number]>([
    ['a duplicate key', 'id: w\ntasks:\n  a: {}\n  a: {}\n', 'YAML syntax error: duplicate key "a"', 4, 3],
    [
      'a duplicate nested key',
      'id: w\ntasks:\n  a:\n    type: x\n    type: y\n',
      'YAML syntax error: duplicate key "type"',
      5,
      5,
    ],
    ['an unclosed flow list', 'id: w\ntasks:\n  a: { needs: [b }\n', 'YAML syntax error:', 3, 0],
    ['an unclosed quote', 'id: "w\ntasks: {}\n', 'YAML syntax error: Missing closing "quote', 3, 1],
    [
      'a tab indent',
      'id: w\ntasks:\n\ta: {}\n',
      'YAML syntax error: Tabs are not allowed as indentation',
      3,
      1,
    ],
    [
      'several documents',
      'id: w\ntasks: { a: {} }\n---\nid: v\n',
      'YAML syntax error: a workflow file holds one YAML document',
      3,
      1,
    ],
  ])('reports %s with line and column', (_name, text, message, line, column) => {
    const [issue] = issuesOf(text);
    expect(issue?.message.startsWith(message)).toBe(true);
    expect(issue?.path).toBe('');
    expect(issue?.line).toBe(line);
    if (column > 0) expect(issue?.column).toBe(column);
  });

  it('reports an alias without anchor', () => {
    expect(issuesOf('id: w\ntasks: *nope\n')[0]?.message).toMatch(/^YAML error: Unresolved alias/);
  });

  it('reads on: as a key, not a boolean (YAML 1.2)', () => {
    expect(parseWorkflow('id: w\non: { event: e }\ntasks: { a: {} }\n').ok).toBe(true);
  });
});

describe('mapping keys', () => {
  it('keeps a task id that YAML would read as a number or boolean as written', () => {
    const text = `${W}  0x1a: {}\n  1e3: { needs: ["0x1a"] }\n  010: { needs: ["1e3"] }\n  '7': {}\n  true: {}\n`;
    const result = parseWorkflow(text);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(Object.fromEntries(result.definition.tasks.map((t) => [t.id, t.needs]))).toEqual({
      '0x1a': [],
      '1e3': ['0x1a'],
      '010': ['1e3'],
      '7': [],
      true: [],
    });
  });

  it('tells apart keys that are the same number but not the same text', () => {
    expect(parseWorkflow(`${W}  0: {}\n  00: {}\n`).ok).toBe(true);
    expect(issuesOf(`${W}  1e3: {}\n  1e3: {}\n`)[0]?.message).toBe('YAML syntax error: duplicate key "1e3"');
  });
});

describe('JSON format', () => {
  it.each([
    ['a stray comma', '{\n  "id": "w",\n  "tasks": {,}\n}', 3, 13],
    ['an unquoted word', '{\n "id": "x",\n "tasks": {"a": {"type": noop}}\n}', 3, 26],
    ['a trailing comma', '{"id": "w", "tasks": {"a": {}},\n}', 2, 1],
    ['a missing colon', '{"id" "w"}', 1, 7],
    ['a bad escape', '{"id": "w\\x"}', 1, 10],
    ['a raw newline in a string', '{"id": "w\n"}', 1, 10],
    ['an unclosed object', '{"id": "w", "tasks": {}', 1, 24],
    ['an empty text', '', 1, 1],
    ['text after the document', '{"id": "w"} x', 1, 13],
  ])('reports a JSON syntax error (%s) with its line and column', (_name, text, line, column) => {
    const [issue] = issuesOf(text, 'json');
    expect(issue?.message).toMatch(/^JSON syntax error: /);
    expect(issue).toMatchObject({ path: '', line, column });
  });

  it('reports duplicate keys that JSON.parse would hide', () => {
    const [issue] = issuesOf('{"id": "w", "tasks": {"a": {}}, "id": "v"}', 'json');
    expect(issue).toMatchObject({ message: 'JSON syntax error: duplicate key "id"', line: 1 });
  });

  it('locates validation issues in JSON text', () => {
    const issues = issuesOf('{\n  "id": "w",\n  "tasks": {\n    "a": {"needs": ["zz"]}\n  }\n}', 'json');
    expect(issues).toEqual([
      { path: 'tasks.a.needs[0]', message: 'needs unknown task "zz"', line: 4, column: 21 },
    ]);
  });
});

describe('reporting', () => {
  it('reports every issue, in document order, with positions', () => {
    const issues = issuesOf(`id: w
extra: true
tasks:
  a:
    needs: [ghost]
    retries: -2
  b:
    type: sleep
    with: { duration: soon }
`);
    expect(issues).toEqual([
      {
        path: 'extra',
        message: 'unknown field "extra"; allowed: id, name, on, defaults, tasks',
        line: 2,
        column: 1,
      },
      { path: 'tasks.a.needs[0]', message: 'needs unknown task "ghost"', line: 5, column: 13 },
      { path: 'tasks.a.retries', message: 'must not be negative (got the number -2)', line: 6, column: 5 },
      {
        path: 'tasks.b.with.duration',
        message: 'must be a duration like 500ms, 10s, 5m or 1h (got "soon")',
        line: 9,
        column: 13,
      },
    ]);
  });

  it('reports several cycles', () => {
    const issues = issuesOf(
      `${W}  a: { needs: [b] }\n  b: { needs: [a] }\n  c: { needs: [d] }\n  d: { needs: [c] }\n`,
    );
    expect(issues.map((i) => i.message)).toEqual(['cycle: a -> b -> a', 'cycle: c -> d -> c']);
  });

  it('validateWorkflow reports issues without positions', () => {
    expect(validateWorkflow({ id: 'w', tasks: { a: { needs: ['b'] } } })).toEqual({
      ok: false,
      issues: [{ path: 'tasks.a.needs[0]', message: 'needs unknown task "b"' }],
    });
  });

  it('validateWorkflow rejects non-JSON values in with', () => {
    const result = validateWorkflow({ id: 'w', tasks: { a: { type: 'c', with: { when: new Date(0) } } } });
    expect(result).toEqual({
      ok: false,
      issues: [
        {
          path: 'tasks.a.with.when',
          message: 'must be JSON (null, boolean, number, string, list or mapping)',
        },
      ],
    });
  });
});
