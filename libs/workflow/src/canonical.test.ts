import { describe, expect, it } from 'vitest';
import { canonicalDefinitionJson, taskSummary } from './canonical.js';
import { parseWorkflowOrThrow } from './source.js';

const BASE = `id: w
name: W
tasks:
  a: { type: custom, with: { z: 1, a: { y: [2, 1], b: null } } }
  b: { needs: [a], requires_approval: true }
`;

describe('canonicalDefinitionJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    const def = parseWorkflowOrThrow(
      'id: w\ntasks:\n  a: { type: custom, with: { z: 1, a: { y: [2, 1], b: null } } }\n',
    );
    expect(canonicalDefinitionJson(def)).toBe(
      '{"id":"w","name":"w","on":{},"tasks":[{"backoff":{"factor":2,"initialMs":1000,"maxMs":60000},' +
        '"id":"a","needs":[],"queue":"default","requiresApproval":false,"retries":0,"timeoutMs":null,' +
        '"type":"custom","with":{"a":{"b":null,"y":[2,1]},"z":1}}]}',
    );
  });

  it.each([
    [
      'reordered keys in the document',
      'id: w\nname: W\ntasks:\n  a: { with: { a: { b: null, y: [2, 1] }, z: 1 }, type: custom }\n  b: { requires_approval: true, needs: [a] }\n',
    ],
    [
      'defaults spelled out',
      'id: w\nname: W\ndefaults: { retries: 0, queue: default, backoff: { initial: 1s, factor: 2, max: 1m } }\ntasks:\n  a: { type: custom, with: { z: 1, a: { y: [2, 1], b: null } } }\n  b: { needs: [a], requires_approval: true, type: noop }\n',
    ],
    [
      'comments and spacing',
      '# a workflow\nid: w\nname: W\ntasks:\n  a:   { type: custom, with: { z: 1, a: { y: [2, 1], b: null } } }   # first\n\n  b: { needs: [a], requires_approval: true }\n',
    ],
  ])('is unchanged by %s', (_name, text) => {
    expect(canonicalDefinitionJson(parseWorkflowOrThrow(text))).toBe(
      canonicalDefinitionJson(parseWorkflowOrThrow(BASE)),
    );
  });

  it.each([
    ['a changed value', BASE.replace('z: 1', 'z: 2')],
    ['a changed array order', BASE.replace('[2, 1]', '[1, 2]')],
    ['a new task', `${BASE}  c: {}\n`],
    [
      'reordered tasks',
      'id: w\nname: W\ntasks:\n  b: { needs: [a], requires_approval: true }\n  a: { type: custom, with: { z: 1, a: { y: [2, 1], b: null } } }\n',
    ],
    ['a changed name', BASE.replace('name: W', 'name: V')],
  ])('changes with %s', (_name, text) => {
    expect(canonicalDefinitionJson(parseWorkflowOrThrow(text))).not.toBe(
      canonicalDefinitionJson(parseWorkflowOrThrow(BASE)),
    );
  });
});

describe('canonicalDefinitionJson on stored definitions', () => {
  /** The reference: a copy with keys inserted in sorted order at every level, then JSON.stringify. */
  function sortedCopy(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(sortedCopy);
    if (typeof value !== 'object' || value === null) return value;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      Object.defineProperty(out, key, {
        value: sortedCopy((value as Record<string, unknown>)[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  it.each<[string, unknown]>([
    [
      'keys in jsonb order (shortest first)',
      { id: 'w', on: {}, name: 'w', tasks: [{ id: 'a', with: { zz: 1, a: [{ y: 1, b: 2 }] } }] },
    ],
    ['integer-like keys', { id: 'w', tasks: [{ with: { '10': 1, '9': 2, b: 3, a: { '2': 0, '1': 0 } } }] }],
    ['a __proto__ key', JSON.parse('{"id":"w","tasks":[{"with":{"z":1,"__proto__":{"b":1,"a":2}}}]}')],
    ['already sorted keys', { id: 'w', name: 'w', on: {}, tasks: [] }],
    [
      'nulls, unicode and nested lists',
      { tasks: [{ with: { é: null, e: [[{ b: 1, a: 'x' }]], E: true } }], id: 'w' },
    ],
  ])('equals JSON.stringify of a key-sorted copy for %s', (_name, def) => {
    expect(canonicalDefinitionJson(def as never)).toBe(JSON.stringify(sortedCopy(def)));
  });
});

describe('taskSummary', () => {
  it('lists id, needs, type and requires_approval in document order', () => {
    expect(taskSummary(parseWorkflowOrThrow(BASE))).toEqual([
      { id: 'a', needs: [], type: 'custom', requires_approval: false },
      { id: 'b', needs: ['a'], type: 'noop', requires_approval: true },
    ]);
  });
});
