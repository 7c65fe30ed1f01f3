// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} templates are the subject under test
import { describe, expect, it } from 'vitest';
import { TemplateResolutionError, TemplateSyntaxError } from './errors.js';
import type { JsonValue } from './json.js';
import { resolveTemplates } from './resolve.js';

const ctx = {
  input: { orderId: 'o-42', n: 7, items: [{ sku: 'A1', qty: 2 }], flag: false, nothing: null, s: 'x y' },
  tasks: {
    fetch: { output: { total: 12.5, lines: ['a', 'b'], meta: { ok: true } } },
    empty: { output: null },
  },
};

describe('resolveTemplates: whole-value references keep their JSON type', () => {
  it.each<[string, JsonValue]>([
    ['${{ input.n }}', 7],
    ['${{input.flag}}', false],
    ['${{ input.nothing }}', null],
    ['${{ input.items[0] }}', { sku: 'A1', qty: 2 }],
    ['${{ input.items[0].qty }}', 2],
    ['${{ tasks.fetch.output.total }}', 12.5],
    ['${{ tasks.fetch.output.lines }}', ['a', 'b']],
    ['${{ tasks.empty.output }}', null],
    ['${{ input.orderId }}', 'o-42'],
  ])('%s', (template, expected) => {
    expect(resolveTemplates(template, ctx)).toEqual(expected);
  });

  it('copies resolved objects instead of aliasing the context', () => {
    const out = resolveTemplates({ a: '${{ input.items }}' }, ctx) as { a: { sku: string }[] };
    expect(out.a).toEqual(ctx.input.items);
    expect(out.a).not.toBe(ctx.input.items);
  });
});

describe('resolveTemplates: embedded references are interpolated', () => {
  it.each<[string, string]>([
    ['id=${{ input.orderId }}', 'id=o-42'],
    [' ${{ input.n }}', ' 7'],
    ['${{ input.n }}${{ input.n }}', '77'],
    ['${{ input.flag }}/${{ input.nothing }}', 'false/null'],
    ['items: ${{ input.items }}', 'items: [{"sku":"A1","qty":2}]'],
    ['total ${{ tasks.fetch.output.total }} EUR', 'total 12.5 EUR'],
    ['no templates here $x {{y}}', 'no templates here $x {{y}}'],
  ])('%s', (template, expected) => {
    expect(resolveTemplates(template, ctx)).toBe(expected);
  });

  it('walks objects and arrays, leaving keys and non-strings alone', () => {
    const value = { url: 'https://x/${{ input.orderId }}', n: 1, list: ['${{ input.n }}', true, null] };
    expect(resolveTemplates(value, ctx)).toEqual({ url: 'https://x/o-42', n: 1, list: [7, true, null] });
  });

  it('keeps a __proto__ key as data', () => {
    const value = JSON.parse('{"__proto__": "${{ input.n }}"}') as JsonValue;
    const out = resolveTemplates(value, ctx) as Record<string, JsonValue>;
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});

describe('resolveTemplates: missing paths', () => {
  it.each<[JsonValue, string | undefined, string]>([
    ['${{ input.orderIdx }}', 'with.url', 'with.url: input.orderIdx is not defined'],
    [{ url: 'x/${{ input.missing.deep }}' }, 'with', 'with.url: input.missing is not defined'],
    [['${{ input.items[3] }}'], 'with.list', 'with.list[0]: input.items[3] is not defined'],
    ['${{ input.items.sku }}', '', 'input.items.sku is not defined'],
    ['${{ input.orderId[0] }}', 'x', 'x: input.orderId[0] is not defined'],
    ['${{ input.n.toFixed }}', 'x', 'x: input.n.toFixed is not defined'],
    ['${{ input.constructor }}', 'x', 'x: input.constructor is not defined'],
    ['${{ input.__proto__ }}', 'x', 'x: input.__proto__ is not defined'],
    ['${{ tasks.ship.output }}', 'with.a', 'with.a: tasks.ship.output is not defined'],
    ['${{ tasks.constructor.output }}', 'w', 'w: tasks.constructor.output is not defined'],
    ['${{ tasks.fetch.output.total.x }}', 'w', 'w: tasks.fetch.output.total.x is not defined'],
    ['${{ tasks.empty.output.a }}', 'w', 'w: tasks.empty.output.a is not defined'],
    [
      '${{ input.items.1 }}',
      'x',
      'x: input.items.1 is not defined: input.items is an array, index it as input.items[1]',
    ],
    ['${{ input.items.01 }}', 'x', 'x: input.items.01 is not defined'],
  ])('%j names the reference and where it appears', (value, at, message) => {
    const run = () => resolveTemplates(value, ctx, at === undefined ? {} : { at });
    expect(run).toThrow(TemplateResolutionError);
    expect(run).toThrow(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  it('throws TemplateSyntaxError for a bad expression', () => {
    expect(() => resolveTemplates({ a: '${{ input.a b }}' }, ctx, { at: 'with' })).toThrow(
      TemplateSyntaxError,
    );
  });
});
