// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} templates are the subject under test
import { describe, expect, it } from 'vitest';
import { TemplateSyntaxError } from './errors.js';
import { MAX_EXPRESSION_LENGTH, parseExpression, parseTemplate } from './parse.js';

describe('parseExpression', () => {
  it.each([
    ['input', { kind: 'input', path: [], expression: 'input' }],
    [' input.orderId ', { kind: 'input', path: ['orderId'], expression: 'input.orderId' }],
    ['input.items[0].sku', { kind: 'input', path: ['items', 0, 'sku'], expression: 'input.items[0].sku' }],
    ['input[2][10]', { kind: 'input', path: [2, 10], expression: 'input[2][10]' }],
    ['input.order-id.a_b', { kind: 'input', path: ['order-id', 'a_b'], expression: 'input.order-id.a_b' }],
    ['tasks.fetch.output', { kind: 'task', taskId: 'fetch', path: [], expression: 'tasks.fetch.output' }],
    [
      '\ttasks.fetch.output.total\n',
      { kind: 'task', taskId: 'fetch', path: ['total'], expression: 'tasks.fetch.output.total' },
    ],
    [
      'tasks.v1.2_x-y.output[0].a',
      { kind: 'task', taskId: 'v1.2_x-y', path: [0, 'a'], expression: 'tasks.v1.2_x-y.output[0].a' },
    ],
    [
      'tasks.a.output.output.b',
      { kind: 'task', taskId: 'a', path: ['output', 'b'], expression: 'tasks.a.output.output.b' },
    ],
  ])('parses %j', (inner, expected) => {
    expect(parseExpression(inner)).toEqual(expected);
  });

  it.each([
    'foo',
    'inputs.a',
    'input.',
    'input..a',
    'input.a b',
    'input[-1]',
    'input[a]',
    'input.a[0',
    'tasks.fetch',
    'tasks.fetch.outputs',
    'tasks.Fetch.output',
    'tasks..output',
    'tasks.fetch.output.',
    'env.HOME',
    '',
    'input.a || "x"',
  ])('rejects %j naming the expression', (inner) => {
    const run = () => parseExpression(inner, 'with.url');
    expect(run).toThrow(TemplateSyntaxError);
    expect(run).toThrow(
      `with.url: invalid template expression \${{${inner}}}: expected input.PATH or tasks.ID.output.PATH`,
    );
  });

  it('takes task ids of up to 128 characters, as workflow ids are', () => {
    const id = `a${'.b'.repeat(63)}c`;
    expect(id).toHaveLength(128);
    expect(parseExpression(`tasks.${id}.output.x`)).toMatchObject({ taskId: id, path: ['x'] });
    expect(() => parseExpression(`tasks.${id}d.output.x`)).toThrow(
      /expected input\.PATH or tasks\.ID\.output\.PATH/,
    );
  });

  it('accepts an expression of MAX_EXPRESSION_LENGTH characters', () => {
    const inner = `tasks.a.output${'.b'.repeat((MAX_EXPRESSION_LENGTH - 14) / 2)}`;
    expect(inner).toHaveLength(MAX_EXPRESSION_LENGTH);
    expect(parseExpression(inner).path).toHaveLength((MAX_EXPRESSION_LENGTH - 14) / 2);
  });

  it.each([
    ['a valid-looking path', `tasks.a.output${'.b'.repeat(MAX_EXPRESSION_LENGTH)}`],
    ['padding', `${' '.repeat(MAX_EXPRESSION_LENGTH)}input`],
  ])('rejects an expression longer than MAX_EXPRESSION_LENGTH (%s), naming the limit', (_, inner) => {
    const run = () => parseExpression(inner, 'with.url');
    expect(run).toThrow(TemplateSyntaxError);
    expect(run).toThrow(`: longer than ${MAX_EXPRESSION_LENGTH} characters (${inner.length})`);
  });

  it('rejects a 1 MB pathological expression fast, quoting only its start', () => {
    // `tasks.a.output.output...!` made the lazy task-id regex quadratic: 8k repeats took 500 ms.
    const inner = ` tasks.a${'.output'.repeat(175_000)}! `;
    expect(inner.length).toBeGreaterThan(1_000_000);
    const template = `echo \${{${inner}}}`;
    const started = performance.now();
    let error: unknown;
    try {
      parseTemplate(template, 'with.command');
    } catch (err) {
      error = err;
    }
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    const { message, expression } = error as TemplateSyntaxError;
    expect(message).toBe(
      `with.command: invalid template expression \${{${inner.slice(0, 40)}...}}: longer than 1024 characters (${inner.length})`,
    );
    expect(expression.length).toBeLessThan(100);
    expect(elapsed).toBeLessThan(1000);
  });

  it('rejects an index beyond the safe integers', () => {
    expect(() => parseExpression('input[99999999999999999999]')).toThrow(/array index too large/);
  });
});

describe('parseTemplate', () => {
  it('splits text and references, keeping the raw expression', () => {
    expect(parseTemplate('a ${{input.x}} b ${{ tasks.t.output }}')).toEqual([
      { kind: 'text', text: 'a ' },
      { kind: 'ref', ref: { kind: 'input', path: ['x'], expression: 'input.x' }, raw: '${{input.x}}' },
      { kind: 'text', text: ' b ' },
      {
        kind: 'ref',
        ref: { kind: 'task', taskId: 't', path: [], expression: 'tasks.t.output' },
        raw: '${{ tasks.t.output }}',
      },
    ]);
  });

  it.each([
    ['', []],
    ['plain', [{ kind: 'text', text: 'plain' }]],
    ['$ {{ not }} ${ {x} } {{ input }}', [{ kind: 'text', text: '$ {{ not }} ${ {x} } {{ input }}' }]],
  ])('leaves %j without references as text', (text, expected) => {
    expect(parseTemplate(text)).toEqual(expected);
  });

  it('rejects an unterminated expression', () => {
    expect(() => parseTemplate('x ${{ input.a', 'with.command')).toThrow(
      'with.command: unterminated template expression ${{ input.a: missing }}',
    );
  });

  it('quotes only the start of a long unterminated expression', () => {
    const rest = `\${{ input.a${' x'.repeat(500_000)}`;
    expect(() => parseTemplate(`x ${rest}`, 'with.command')).toThrow(
      `with.command: unterminated template expression ${rest.slice(0, 43)}...: missing }}`,
    );
  });
});
