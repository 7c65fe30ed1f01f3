// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} templates are the subject under test
import { describe, expect, it } from 'vitest';
import { TemplateSyntaxError } from './errors.js';
import { findReferences, scanReferences } from './references.js';

describe('findReferences', () => {
  it('lists references with their location, depth first, prefixed by the base', () => {
    const value = {
      url: 'https://x/${{ input.orderId }}?t=${{ tasks.auth.output.token }}',
      headers: { a: '${{ input.h[1] }}' },
      list: ['no', { deep: '${{ tasks.fetch.output }}' }],
      n: 3,
      b: true,
      z: null,
      '${{ input.key }}': 'keys are not templated',
    };
    expect(findReferences(value, 'tasks.charge.with')).toEqual([
      { kind: 'input', path: ['orderId'], at: 'tasks.charge.with.url', expression: 'input.orderId' },
      {
        kind: 'task',
        taskId: 'auth',
        path: ['token'],
        at: 'tasks.charge.with.url',
        expression: 'tasks.auth.output.token',
      },
      { kind: 'input', path: ['h', 1], at: 'tasks.charge.with.headers.a', expression: 'input.h[1]' },
      {
        kind: 'task',
        taskId: 'fetch',
        path: [],
        at: 'tasks.charge.with.list[1].deep',
        expression: 'tasks.fetch.output',
      },
    ]);
  });

  it.each([
    ['string at the root', '${{ input.a }}', '', ''],
    ['array at the root', ['x', '${{ input.a }}'], '', '[1]'],
    ['object without base', { a: { b: '${{ input.a }}' } }, '', 'a.b'],
    ['object with base', { a: '${{ input.a }}' }, 'with', 'with.a'],
  ])('reports the location of a %s', (_name, value, base, at) => {
    expect(findReferences(value, base).map((r) => r.at)).toEqual([at]);
  });

  it('returns [] for values without templates', () => {
    expect(findReferences({ a: [1, 'b', { c: null }] })).toEqual([]);
  });

  it('throws the first syntax error with its location', () => {
    expect(() => findReferences({ a: 'ok', b: ['${{ nope }}'] }, 'with')).toThrow(
      'with.b[0]: invalid template expression ${{ nope }}',
    );
  });
});

describe('scanReferences', () => {
  it('collects every syntax error and the valid references alongside', () => {
    const scan = scanReferences({ a: '${{ bad1 }}', b: '${{ input.x }}', c: '${{ input.y' }, 'with');
    expect(scan.references.map((r) => r.expression)).toEqual(['input.x']);
    expect(scan.errors).toHaveLength(2);
    expect(scan.errors.every((e) => e instanceof TemplateSyntaxError)).toBe(true);
    expect(scan.errors.map((e) => e.at)).toEqual(['with.a', 'with.c']);
  });
});
