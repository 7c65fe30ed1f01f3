import { describe, expect, it } from 'vitest';
import { IllegalTransitionError, UnreachableError } from './errors.js';
import { isTerminal, TASK_STATES, type TaskState } from './states.js';
import {
  ACTORS,
  type Actor,
  canTransition,
  initialState,
  TASK_TRANSITIONS,
  type TaskEvent,
  transition,
} from './transitions.js';

// The lifecycle of ARCHITECTURE.md, transcribed independently of TASK_TRANSITIONS:
// "from>to" -> the writers allowed to make that move.
const EXPECTED: Record<string, Actor[]> = {
  '(none)>PENDING': ['scheduler'],
  '(none)>READY': ['scheduler'],
  '(none)>BLOCKED': ['scheduler'],
  'PENDING>READY': ['scheduler'],
  'PENDING>BLOCKED': ['scheduler'],
  'BLOCKED>READY': ['scheduler'],
  'BLOCKED>FAILED': ['scheduler'],
  'READY>QUEUED': ['dispatcher'],
  'QUEUED>RUNNING': ['worker'],
  'RUNNING>SUCCESS': ['worker'],
  'RUNNING>FAILED': ['worker', 'reaper'],
  'RUNNING>READY': ['worker'],
  'FAILED>READY': ['scheduler'],
  'PENDING>CANCELLED': ['scheduler'],
  'READY>CANCELLED': ['scheduler'],
  'QUEUED>CANCELLED': ['scheduler'],
  'BLOCKED>CANCELLED': ['scheduler'],
  'RUNNING>CANCELLED': ['scheduler'],
  'FAILED>CANCELLED': ['scheduler'],
};

const FROM: (TaskState | null)[] = [null, ...TASK_STATES];
const PAIRS = FROM.flatMap((from) => TASK_STATES.map((to) => [from, to] as const));

describe('canTransition: every pair of states against the lifecycle', () => {
  it.each(PAIRS)('%s -> %s', (from, to) => {
    const allowed = EXPECTED[`${from ?? '(none)'}>${to}`] ?? [];
    expect(canTransition(from, to)).toBe(allowed.length > 0);
    for (const by of ACTORS) expect(canTransition(from, to, by)).toBe(allowed.includes(by));
  });

  it('the table has no row beyond the lifecycle', () => {
    const rows = new Set(TASK_TRANSITIONS.map((t) => `${t.from ?? '(none)'}>${t.to}>${t.by}`));
    const expected = new Set(
      Object.entries(EXPECTED).flatMap(([pair, actors]) => actors.map((a) => `${pair}>${a}`)),
    );
    expect(rows).toEqual(expected);
    expect(rows.size).toBe(TASK_TRANSITIONS.length);
  });
});

const EVENTS: TaskEvent[] = [
  { type: 'NeedsMet', requiresApproval: false },
  { type: 'NeedsMet', requiresApproval: true },
  { type: 'TaskApproved' },
  { type: 'TaskRejected' },
  { type: 'TaskQueued' },
  { type: 'TaskClaimed' },
  { type: 'TaskSucceeded' },
  { type: 'TaskFailed' },
  { type: 'TaskHandedBack' },
  { type: 'HeartbeatMissed' },
  { type: 'RetryScheduled' },
  { type: 'RunAborted' },
];

// state + event -> new state; every combination not listed is illegal.
const EXPECTED_RESULTS: Record<string, TaskState> = {
  'PENDING+NeedsMet:false': 'READY',
  'PENDING+NeedsMet:true': 'BLOCKED',
  'BLOCKED+TaskApproved': 'READY',
  'BLOCKED+TaskRejected': 'FAILED',
  'READY+TaskQueued': 'QUEUED',
  'QUEUED+TaskClaimed': 'RUNNING',
  'RUNNING+TaskSucceeded': 'SUCCESS',
  'RUNNING+TaskFailed': 'FAILED',
  'RUNNING+TaskHandedBack': 'READY',
  'RUNNING+HeartbeatMissed': 'FAILED',
  'FAILED+RetryScheduled': 'READY',
  'PENDING+RunAborted': 'CANCELLED',
  'READY+RunAborted': 'CANCELLED',
  'QUEUED+RunAborted': 'CANCELLED',
  'BLOCKED+RunAborted': 'CANCELLED',
  'RUNNING+RunAborted': 'CANCELLED',
  'FAILED+RunAborted': 'CANCELLED',
};

function label(event: TaskEvent): string {
  if (event.type === 'NeedsMet') return `NeedsMet:${event.requiresApproval}`;
  return event.type;
}

describe('transition: every state with every event', () => {
  const cases = TASK_STATES.flatMap((state) => EVENTS.map((event) => [state, label(event), event] as const));

  it.each(cases)('%s + %s', (state, name, event) => {
    const expected = EXPECTED_RESULTS[`${state}+${name}`];
    if (expected === undefined) {
      expect(() => transition(state, event)).toThrow(IllegalTransitionError);
      expect(() => transition(state, event)).toThrow(
        `${event.type} does not apply to a task in state ${state}`,
      );
    } else {
      expect(transition(state, event)).toBe(expected);
    }
  });

  it('covers every row of the table that updates an existing row', () => {
    const reached = new Set<string>();
    for (const state of TASK_STATES) {
      for (const event of EVENTS) {
        try {
          reached.add(`${state}>${transition(state, event)}>${event.type}`);
        } catch {
          // illegal combinations are checked above
        }
      }
    }
    const rows = TASK_TRANSITIONS.filter((t) => t.from !== null).map((t) => `${t.from}>${t.to}>${t.on}`);
    expect(reached).toEqual(new Set(rows));
  });

  it('rejects an event outside the union at run time', () => {
    expect(() => transition('READY', { type: 'Bogus' } as unknown as TaskEvent)).toThrow(UnreachableError);
  });
});

describe('initialState', () => {
  it.each([
    [false, false, 'READY'],
    [false, true, 'BLOCKED'],
    [true, false, 'PENDING'],
    [true, true, 'PENDING'],
  ] as const)('hasNeeds=%s requiresApproval=%s -> %s', (hasNeeds, requiresApproval, expected) => {
    const state = initialState({ hasNeeds, requiresApproval });
    expect(state).toBe(expected);
    expect(canTransition(null, state, 'scheduler')).toBe(true);
  });
});

describe('isTerminal', () => {
  it.each(TASK_STATES)('%s is terminal exactly when no transition leaves it', (state) => {
    const leaves = TASK_STATES.some((to) => canTransition(state, to));
    expect(isTerminal(state)).toBe(!leaves);
  });
});
