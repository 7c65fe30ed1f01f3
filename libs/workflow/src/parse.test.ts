// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow documents hold ${{ }} templates
import { describe, expect, it } from 'vitest';
import { formatIssue, WorkflowValidationError } from './errors.js';
import { parseWorkflow, parseWorkflowOrThrow } from './source.js';
import type { ParseResult, WorkflowDefinition } from './types.js';
import { validateWorkflow } from './validate.js';

/** SPEC section 3, verbatim. */
const SPEC_EXAMPLE = `id: order-fulfilment            # required; ^[a-z0-9][a-z0-9._-]{0,127}$
name: Order fulfilment          # optional, defaults to id
on:                             # optional triggers besides the API
  event: order.created          # POST /events with this type starts a run; its payload is the input
  schedule: "*/15 * * * *"      # cron, UTC; fired once per tick however many schedulers run
defaults:                       # optional, applied to every task
  retries: 2
  timeout: 30s
  queue: default
tasks:                          # a map: task id -> task; ids follow the same pattern as workflow ids
  fetch:
    type: http                  # noop | sleep | shell | http | <name of a custom handler>; default noop
    with: { url: "https://example.com/orders/\${{ input.orderId }}", method: GET }
  charge:
    needs: [fetch]              # dependencies (edges of the DAG)
    type: charge-card           # a custom handler registered by a worker
    with: { amount: "\${{ tasks.fetch.output.total }}" }
    retries: 3                  # attempts after the first; default 0
    backoff: { initial: 1s, factor: 2, max: 1m }   # default shown
    timeout: 10s                # per attempt; default none
    queue: payments             # which worker pool runs it; default "default"
  ship:
    needs: [charge]
    requires_approval: true     # BLOCKED until approved through the API
    type: shell
    with: { command: "echo shipping" }
`;

function definitionOf(result: ParseResult): WorkflowDefinition {
  if (!result.ok) throw new Error(result.issues.map(formatIssue).join('\n'));
  return result.definition;
}

const backoff = { initialMs: 1000, factor: 2, maxMs: 60_000 };

describe('parseWorkflow: the SPEC example', () => {
  it('parses into the normalized definition with defaults applied', () => {
    expect(definitionOf(parseWorkflow(SPEC_EXAMPLE))).toEqual({
      id: 'order-fulfilment',
      name: 'Order fulfilment',
      on: { event: 'order.created', schedule: '*/15 * * * *' },
      tasks: [
        {
          id: 'fetch',
          needs: [],
          type: 'http',
          with: { url: 'https://example.com/orders/${{ input.orderId }}', method: 'GET' },
          retries: 2,
          backoff,
          timeoutMs: 30_000,
          queue: 'default',
          requiresApproval: false,
        },
        {
          id: 'charge',
          needs: ['fetch'],
          type: 'charge-card',
          with: { amount: '${{ tasks.fetch.output.total }}' },
          retries: 3,
          backoff,
          timeoutMs: 10_000,
          queue: 'payments',
          requiresApproval: false,
        },
        {
          id: 'ship',
          needs: ['charge'],
          type: 'shell',
          with: { command: 'echo shipping' },
          retries: 2,
          backoff,
          timeoutMs: 30_000,
          queue: 'default',
          requiresApproval: true,
        },
      ],
    });
  });

  it('parses the same document given as JSON', () => {
    const yamlDef = definitionOf(parseWorkflow(SPEC_EXAMPLE));
    const json = JSON.stringify({
      id: 'order-fulfilment',
      name: 'Order fulfilment',
      on: { event: 'order.created', schedule: '*/15 * * * *' },
      defaults: { retries: 2, timeout: '30s', queue: 'default' },
      tasks: {
        fetch: {
          type: 'http',
          with: { url: 'https://example.com/orders/${{ input.orderId }}', method: 'GET' },
        },
        charge: {
          needs: ['fetch'],
          type: 'charge-card',
          with: { amount: '${{ tasks.fetch.output.total }}' },
          retries: 3,
          backoff: { initial: '1s', factor: 2, max: '1m' },
          timeout: '10s',
          queue: 'payments',
        },
        ship: {
          needs: ['charge'],
          requires_approval: true,
          type: 'shell',
          with: { command: 'echo shipping' },
        },
      },
    });
    expect(definitionOf(parseWorkflow(json, { format: 'json' }))).toEqual(yamlDef);
    expect(definitionOf(parseWorkflow(json))).toEqual(yamlDef);
    expect(definitionOf(validateWorkflow(JSON.parse(json)))).toEqual(yamlDef);
  });
});

describe('parseWorkflow: defaults and normalization', () => {
  it('fills every default for a minimal workflow', () => {
    expect(definitionOf(parseWorkflow('id: w\ntasks:\n  a: {}\n'))).toEqual({
      id: 'w',
      name: 'w',
      on: {},
      tasks: [
        {
          id: 'a',
          needs: [],
          type: 'noop',
          with: {},
          retries: 0,
          backoff,
          timeoutMs: null,
          queue: 'default',
          requiresApproval: false,
        },
      ],
    });
  });

  it('treats an empty task, empty on/defaults/with/needs as absent', () => {
    const def = definitionOf(
      parseWorkflow('id: w\non:\ndefaults:\ntasks:\n  a:\n  b:\n    needs:\n    type: custom\n    with:\n'),
    );
    expect(def.on).toEqual({});
    expect(def.tasks.map((t) => [t.id, t.needs, t.type, t.with])).toEqual([
      ['a', [], 'noop', {}],
      ['b', [], 'custom', {}],
    ]);
  });

  it('keeps tasks in document order and needs as given', () => {
    const def = definitionOf(
      parseWorkflow('id: w\ntasks:\n  z:\n    needs: [b, a]\n  a: {}\n  b:\n    needs: a\n'),
    );
    expect(def.tasks.map((t) => [t.id, t.needs])).toEqual([
      ['z', ['b', 'a']],
      ['a', []],
      ['b', ['a']],
    ]);
  });

  it('lets task fields override defaults, merging backoff field by field', () => {
    const def = definitionOf(
      parseWorkflow(`id: w
defaults: { retries: 4, timeout: 1.5s, queue: slow, backoff: { initial: 500ms, max: 5m } }
tasks:
  a: { retries: 0, timeout: 1h, queue: fast, backoff: { factor: 3 } }
  b: {}
`),
    );
    const [a, b] = def.tasks;
    expect(a).toMatchObject({
      retries: 0,
      timeoutMs: 3_600_000,
      queue: 'fast',
      backoff: { initialMs: 500, factor: 3, maxMs: 300_000 },
    });
    expect(b).toMatchObject({
      retries: 4,
      timeoutMs: 1500,
      queue: 'slow',
      backoff: { initialMs: 500, factor: 2, maxMs: 300_000 },
    });
  });

  it('accepts built-in handlers with their full inputs and custom handlers with any mapping', () => {
    const def = definitionOf(
      parseWorkflow(`id: w
tasks:
  wait: { type: sleep, with: { duration: 250ms } }
  wait2: { type: sleep, with: { duration: "\${{ input.delay }}" } }
  sh:
    type: shell
    with: { command: 'echo "\${{ input.name }}"', env: { GREETING: hi, _X1: "\${{ input.x }}", N: 5, ON: true } }
  call:
    needs: [sh]
    type: http
    with:
      url: "\${{ input.base }}/x"
      method: POST
      headers: { Authorization: Bearer t }
      body: { n: 1, list: [1, "\${{ tasks.sh.output }}"], nested: { ok: null } }
  custom:
    needs: [call]
    type: myOrg.chargeCard:v2
    with: { anything: [1, { deep: true }], from: "\${{ tasks.sh.output.a[0] }}" }
`),
    );
    expect(def.tasks.map((t) => t.type)).toEqual(['sleep', 'sleep', 'shell', 'http', 'myOrg.chargeCard:v2']);
    expect(def.tasks[2]?.with.env).toEqual({ GREETING: 'hi', _X1: '${{ input.x }}', N: 5, ON: true });
    expect(def.tasks[3]?.with.body).toEqual({
      n: 1,
      list: [1, '${{ tasks.sh.output }}'],
      nested: { ok: null },
    });
  });

  it('accepts references as an http method and headers, checked when the task runs', () => {
    const def = definitionOf(
      parseWorkflow(`id: w
tasks:
  call:
    type: http
    with: { url: "https://x", method: "\${{ input.method }}", headers: "\${{ input.headers }}", body: 1 }
`),
    );
    expect(def.tasks[0]?.with).toMatchObject({
      method: '${{ input.method }}',
      headers: '${{ input.headers }}',
    });
  });

  it('accepts references to tasks upstream through other tasks', () => {
    const result = parseWorkflow(`id: w
tasks:
  a: {}
  b: { needs: [a] }
  c: { needs: [b], type: custom, with: { x: "\${{ tasks.a.output }}" } }
`);
    expect(result.ok).toBe(true);
  });

  it('keeps keys that name Object.prototype members: task ids, with fields, headers and env', () => {
    const def = definitionOf(
      parseWorkflow(`id: w
tasks:
  constructor: {}
  prototype: { needs: [constructor], type: toString, with: { constructor: 1, prototype: [2], __proto__: { a: 3 } } }
  call:
    needs: [prototype]
    type: http
    with: { url: "https://example.com", headers: { constructor: x, __proto__: y } }
  sh: { type: shell, with: { command: env, env: { constructor: a, valueOf: b } } }
`),
    );
    expect(def.tasks.map((t) => [t.id, t.needs, t.type])).toEqual([
      ['constructor', [], 'noop'],
      ['prototype', ['constructor'], 'toString'],
      ['call', ['prototype'], 'http'],
      ['sh', [], 'shell'],
    ]);
    const custom = def.tasks[1]?.with as Record<string, unknown>;
    expect(Object.keys(custom)).toEqual(['constructor', 'prototype', '__proto__']);
    expect(custom.constructor).toBe(1);
    expect(Object.getOwnPropertyDescriptor(custom, '__proto__')?.value).toEqual({ a: 3 });
    expect(Object.getPrototypeOf(custom)).toBe(Object.prototype);
    expect(Object.keys(def.tasks[2]?.with.headers as object)).toEqual(['constructor', '__proto__']);
    expect(def.tasks[3]?.with.env).toEqual({ constructor: 'a', valueOf: 'b' });
  });

  it.each(['toString', 'valueOf', 'hasOwnProperty', 'constructor'])(
    'takes a handler named %s as a custom one (any with mapping)',
    (type) => {
      const def = definitionOf(parseWorkflow(`id: w\ntasks:\n  a: { type: "${type}", with: { x: 1 } }\n`));
      expect(def.tasks[0]?.type).toBe(type);
      expect(def.tasks[0]?.with).toEqual({ x: 1 });
    },
  );

  it('accepts ids with dots, dashes and underscores', () => {
    const def = definitionOf(
      parseWorkflow(
        'id: v1.2_flow-x\ntasks:\n  step.1: {}\n  step-2: { needs: [step.1], type: c, with: { a: "${{ tasks.step.1.output }}" } }\n',
      ),
    );
    expect(def.tasks.map((t) => t.id)).toEqual(['step.1', 'step-2']);
  });
});

describe('parseWorkflowOrThrow', () => {
  it('returns the definition', () => {
    expect(parseWorkflowOrThrow(SPEC_EXAMPLE).id).toBe('order-fulfilment');
  });

  it('throws WorkflowValidationError carrying every issue', () => {
    let caught: unknown;
    try {
      parseWorkflowOrThrow('id: w\ntasks:\n  a: { needs: [x] }\n  b: { retries: -1 }\n');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WorkflowValidationError);
    const error = caught as WorkflowValidationError;
    expect(error.issues.map((i) => i.path)).toEqual(['tasks.a.needs[0]', 'tasks.b.retries']);
    expect(error.message).toBe(
      'invalid workflow (2 issues):\n' +
        '- tasks.a.needs[0]: needs unknown task "x" (line 3, column 16)\n' +
        '- tasks.b.retries: must not be negative (got the number -1) (line 4, column 8)',
    );
  });
});
