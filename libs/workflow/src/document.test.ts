// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow documents hold ${{ }} templates
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatDuration, workflowToYaml } from './document.js';
import { parseDuration } from './duration.js';
import { parseWorkflowOrThrow } from './source.js';
import type { WorkflowDefinition } from './types.js';

/** The definition back from the YAML workflowToYaml wrote, as POST /workflows would parse it. */
function roundTrip(def: WorkflowDefinition): WorkflowDefinition {
  return parseWorkflowOrThrow(workflowToYaml(def));
}

describe('formatDuration', () => {
  it.each([
    [1, '1ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1500ms'],
    [90_000, '90s'],
    [120_000, '2m'],
    [5_400_000, '90m'],
    [3_600_000, '1h'],
    [90_000_000, '25h'],
    [2 ** 31 - 1, '2147483647ms'],
  ])('%d ms is %s, which parses back to it', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });
});

/** Strings a YAML writer can get wrong: syntax, other types, blanks, line breaks, odd characters. */
const TRICKY_STRINGS = [
  'x',
  'a b',
  '1',
  '0x1a',
  '010',
  '1e3',
  '1_000',
  '+1',
  '-1',
  '.5',
  '1.',
  '.inf',
  '.NaN',
  '2024-01-01',
  'true',
  'False',
  'yes',
  'No',
  'ON',
  'off',
  'y',
  'N',
  'null',
  'Null',
  '~',
  '',
  ' ',
  '  ',
  'a ',
  ' a',
  'a: b',
  'a:b',
  'a:',
  ':a',
  'a #b',
  'a#b',
  '#a',
  '- a',
  '-a',
  '? a',
  '?a',
  '<<',
  '*a',
  '&a',
  '!a',
  '%a',
  '@a',
  '`a',
  '|',
  '>',
  '{a}',
  '[1]',
  'a, b',
  'a]',
  "'a'",
  '"a"',
  "it's",
  'say "hi"',
  'a\\b',
  '${{ input.v }}',
  'a\tb',
  '\ta',
  'a\u0007b',
  'a\u007fb',
  'a\u0085b',
  'a\u2028b',
  '\ufeffa',
  'é ü ß',
  '漢字',
  '🚀',
  'line\nline',
  'a\n',
  'a\n\n',
  'a\n\n\n',
  '\na',
  '\n\na\nb',
  '  indented\nline',
  'line\n  indented',
  'trailing \nline',
  'a\r\nb',
  'a\n\tb',
  'x\n#not a comment\n- not a list\n',
  'k: v\n---\n...\n',
  'x'.repeat(300),
  `${'word '.repeat(60)}end`,
];

describe('workflowToYaml', () => {
  it.each(TRICKY_STRINGS.map((text) => [JSON.stringify(text).slice(0, 40), text]))(
    'gives back %s as a value, a key and a list item',
    (_name, text) => {
      const def = parseWorkflowOrThrow(
        JSON.stringify({
          id: 'w',
          name: text.trim() === '' ? 'w' : text,
          tasks: { a: { type: 'custom', with: { v: text, [text]: [text, { [text]: text }] } } },
        }),
      );
      expect(roundTrip(def)).toEqual(def);
    },
  );

  it('writes only what differs from the defaults, on each task', () => {
    const def = parseWorkflowOrThrow(`
id: w
defaults: { retries: 2, timeout: 30s, queue: q, backoff: { max: 2m } }
tasks:
  a: {}
  b: { needs: [a], retries: 0, queue: default, backoff: { initial: 1s, factor: 2, max: 1m } }
`);
    expect(workflowToYaml(def)).toBe(
      [
        'id: w',
        'tasks:',
        '  a:',
        '    type: noop',
        '    retries: 2',
        '    backoff: { initial: 1s, factor: 2, max: 2m }',
        '    timeout: 30s',
        '    queue: q',
        '  b:',
        '    needs: [a]',
        '    type: noop',
        '    timeout: 30s',
        '',
      ].join('\n'),
    );
    expect(roundTrip(def)).toEqual(def);
  });

  it('keeps ids that read as numbers or other types as written, in the same order', () => {
    const def = parseWorkflowOrThrow(`
id: "10"
name: "true"
tasks:
  b: {}
  "10": { needs: [b] }
  1: { needs: ["10"] }
  0x1a: { needs: [b] }
  010: {}
  1e3: {}
  on: {}
  "null": { needs: [on] }
`);
    // Integer-like ids come first, as JSON.parse or any object orders them; the YAML keeps that order.
    expect(def.tasks.map((t) => t.id)).toEqual(['1', '10', 'b', '0x1a', '010', '1e3', 'on', 'null']);
    expect(roundTrip(def)).toEqual(def);
  });

  it('keeps every handler input exactly: types, text that reads as another type, templates, lines', () => {
    const def = parseWorkflowOrThrow(
      stringify({
        id: 'inputs',
        name: 'Inputs: "quoted" # not a comment',
        on: { event: 'order.created', schedule: '*/15  *  * * *' },
        tasks: {
          shell: {
            type: 'shell',
            with: {
              command: 'set -e\nif [ "$X" = 1 ]; then\n  echo "a: b # c"\nfi\n\n  indented\ttab\n',
              env: { A: 'true', B: '1', C: '', D: 'null', E: '${{ input.x }}', F: '~', G: '- x' },
            },
            timeout: '1500ms',
          },
          http: {
            needs: ['shell'],
            type: 'http',
            with: {
              url: 'https://example.com/${{ input.id }}?a=1&b=${{ tasks.shell.output }}',
              method: 'POST',
              headers: { 'x-key': '${{ input.key }}' },
              body: { n: 1.5, big: 1e21, neg: -0.25, t: true, f: false, z: null, list: [1, 'two', [], {}] },
            },
            retries: 3,
            backoff: { initial: '250ms', factor: 1.5, max: '90s' },
            requires_approval: true,
          },
          custom: { needs: ['shell', 'http'], type: 'billing:charge-card', with: { 'é ü': 'ünïcödé 🚀' } },
        },
      }),
    );
    expect(roundTrip(def)).toEqual(def);
    expect(roundTrip(roundTrip(def))).toEqual(def);
  });

  it('gives back generated workflows as the same definitions', () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const durations = ['1ms', '999ms', '1s', '1.5s', '90s', '2m', '0.5m', '1h', '25h'];
    const values = [...TRICKY_STRINGS, 0, 1.25, -3, -0, 1e21, 5e-324, true, false, null];
    for (let n = 0; n < 200; n += 1) {
      const ids: string[] = [];
      const tasks: Record<string, Record<string, unknown>> = {};
      const count = 1 + Math.floor(random() * 8);
      for (let i = 0; i < count; i += 1) {
        const id = `${pick(['t', '', 'x.', 'a_'])}${i}${pick(['', '-b', '.c'])}`;
        const task: Record<string, unknown> = {};
        const needs = ids.filter(() => random() < 0.3);
        if (needs.length > 0) task.needs = needs;
        if (random() < 0.5) {
          task.type = 'custom.handler';
          if (random() < 0.7) {
            task.with = {
              k: pick(values),
              [pick(TRICKY_STRINGS)]: pick(values),
              nested: { v: [pick(values), [pick(values)], { [pick(TRICKY_STRINGS)]: pick(values) }, []] },
              empty: pick([{}, [], '']),
            };
          }
        } else {
          const kind = random();
          if (kind < 0.3) {
            task.type = 'shell';
            task.with = { command: pick(['echo hi', 'echo "${{ input.v }}"\nexit 0\n']) };
          } else if (kind < 0.6) {
            task.type = 'noop';
          }
        }
        if (random() < 0.4) task.retries = Math.floor(random() * 5);
        if (random() < 0.3) {
          const initial = pick(['1ms', '10ms', '1s']);
          task.backoff = { initial, factor: pick([1, 1.5, 2, 3]), max: pick(['1s', '90s', '1h']) };
        }
        if (random() < 0.4) task.timeout = pick(durations);
        if (random() < 0.3) task.queue = pick(['default', 'gpu', 'q.1']);
        if (random() < 0.2) task.requires_approval = random() < 0.5;
        ids.push(id);
        tasks[id] = task;
      }
      const doc: Record<string, unknown> = { id: `w${n}`, tasks };
      if (random() < 0.5) doc.name = pick(['W', 'w', 'Name: with colon', '10']);
      if (random() < 0.4) {
        doc.defaults = {
          retries: Math.floor(random() * 3),
          timeout: pick(durations),
          queue: pick(['default', 'other']),
        };
      }
      if (random() < 0.3) doc.on = { event: 'e.v' };
      const def = parseWorkflowOrThrow(stringify(doc));
      expect(roundTrip(def), `workflow ${n}`).toEqual(def);
    }
  });
});
