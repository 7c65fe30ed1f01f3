import { waitFor } from '@relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, startFleet } from './fleet.js';
import { findViolations } from './invariants.js';

// One fleet (a process per service) serves every scenario of this file; runs are independent.
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ label: 'pipeline', workers: 1 });
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
});

async function expectSound(runId: string) {
  expect(await findViolations(fleet.sql, fleet.redis, fleet.prefix, runId)).toEqual([]);
}

function statuses(run: { tasks: { taskId: string; status: string }[] }) {
  return Object.fromEntries(run.tasks.map((t) => [t.taskId, t.status]));
}

describe('the pipeline, end to end', () => {
  it('runs a chain in order', async () => {
    await fleet.applyYaml(`
id: chain
tasks:
  a: { type: noop }
  b: { needs: [a], type: noop }
  c: { needs: [b], type: noop }
  d: { needs: [c], type: noop }
`);
    const runId = await fleet.startRun('chain');
    const run = await fleet.waitForRun(runId);
    expect(run.status).toBe('SUCCESS');
    expect(statuses(run)).toEqual({ a: 'SUCCESS', b: 'SUCCESS', c: 'SUCCESS', d: 'SUCCESS' });
    await expectSound(runId);
  });

  it('runs a diamond: the join waits for both branches', async () => {
    await fleet.applyYaml(`
id: diamond
tasks:
  top: { type: noop }
  left: { needs: [top], type: sleep, with: { duration: 300ms } }
  right: { needs: [top], type: noop }
  bottom: { needs: [left, right], type: noop }
`);
    const runId = await fleet.startRun('diamond');
    const run = await fleet.waitForRun(runId);
    expect(run.status).toBe('SUCCESS');
    const by = new Map(run.tasks.map((t) => [t.taskId, t]));
    expect(Date.parse(by.get('bottom')!.startedAt!)).toBeGreaterThanOrEqual(
      Date.parse(by.get('left')!.finishedAt!),
    );
    await expectSound(runId);
  });

  it('fans out to 200 tasks and back in', async () => {
    const middle = Array.from({ length: 200 }, (_, i) => `  t${i}: { needs: [root], type: noop }`).join('\n');
    const needs = Array.from({ length: 200 }, (_, i) => `t${i}`).join(', ');
    await fleet.applyYaml(
      `id: fan\ntasks:\n  root: { type: noop }\n${middle}\n  sink: { needs: [${needs}], type: noop }\n`,
    );
    const runId = await fleet.startRun('fan');
    const run = await fleet.waitForRun(runId, 60_000);
    expect(run.status).toBe('SUCCESS');
    expect(run.tasks).toHaveLength(202);
    expect(run.tasks.every((t) => t.status === 'SUCCESS' && t.attempt === 1)).toBe(true);
    await expectSound(runId);
  });

  it('passes outputs between tasks through templates, keeping JSON types', async () => {
    await fleet.applyYaml(`
id: outputs
tasks:
  quote:
    type: shell
    with: { command: "echo '{\\"total\\": 129.9, \\"items\\": [{\\"sku\\": \\"A-1\\"}]}'" }
  label:
    needs: [quote]
    type: shell
    with: { command: "echo order \${{ input.orderId }} costs \${{ tasks.quote.output.total }}" }
  keep:
    needs: [quote, label]
    type: shell
    with: { command: "echo \${{ tasks.quote.output.items[0].sku }}" }
`);
    const runId = await fleet.startRun('outputs', { orderId: 'x; touch /tmp/relay-pwned' });
    const run = await fleet.waitForRun(runId);
    expect(run.status).toBe('SUCCESS');
    const by = new Map(run.tasks.map((t) => [t.taskId, t]));
    expect(by.get('quote')!.output).toEqual({ total: 129.9, items: [{ sku: 'A-1' }] });
    expect(by.get('label')!.output).toBe('order x; touch /tmp/relay-pwned costs 129.9');
    expect(by.get('keep')!.output).toBe('A-1');
    await expectSound(runId);
  });

  it('runs the workflows subscribed to an event sent to POST /events, its payload as their input', async () => {
    await fleet.applyYaml(`
id: on-order
on: { event: order.placed }
tasks:
  greet: { type: shell, with: { command: "echo order \${{ input.orderId }}" } }
`);
    const res = await fleet.api<{ runs: string[] }>('POST', '/events', {
      type: 'order.placed',
      id: 'e2e-order-1',
      payload: { orderId: 17 },
    });
    expect(res.status).toBe(202);
    const { runs } = res.body;
    expect(runs).toHaveLength(1);
    const run = await fleet.waitForRun(runs[0] as string);
    expect(run.status).toBe('SUCCESS');
    expect(run.tasks.map((t) => [t.taskId, t.output])).toEqual([['greet', 'order 17']]);
    await expectSound(runs[0] as string);
  });

  it('retries a failing task after its backoff and succeeds', async () => {
    await fleet.applyYaml(`
id: flaky
tasks:
  flaky:
    type: shell
    retries: 3
    backoff: { initial: 200ms, factor: 2, max: 1s }
    with: { command: 'if [ "$RELAY_ATTEMPT" -lt 3 ]; then echo "boom $RELAY_ATTEMPT" >&2; exit 1; fi; echo ok' }
  after: { needs: [flaky], type: noop }
`);
    const runId = await fleet.startRun('flaky');
    const run = await fleet.waitForRun(runId);
    expect(run.status).toBe('SUCCESS');
    const flaky = run.tasks.find((t) => t.taskId === 'flaky')!;
    expect(flaky.attempt).toBe(3);
    expect(flaky.output).toBe('ok');
    await expectSound(runId);
  });

  it('fails the run when retries are exhausted and cancels what had not started', async () => {
    await fleet.applyYaml(`
id: doomed
tasks:
  bad:
    type: shell
    retries: 1
    backoff: { initial: 100ms }
    with: { command: 'echo "disk full" >&2; exit 3' }
  slow: { type: sleep, with: { duration: 30s } }
  next: { needs: [bad], type: noop }
`);
    const runId = await fleet.startRun('doomed');
    const run = await fleet.waitForRun(runId);
    expect(run.status).toBe('FAILED');
    const by = new Map(run.tasks.map((t) => [t.taskId, t]));
    expect(by.get('bad')).toMatchObject({ status: 'FAILED', attempt: 2 });
    expect(by.get('bad')!.error).toContain('disk full');
    expect(by.get('next')!.status).toBe('CANCELLED');
    expect(by.get('slow')!.status).toBe('CANCELLED');
    await expectSound(runId);
  });

  it('waits for approval, then runs; a rejection fails the run', async () => {
    await fleet.applyYaml(`
id: gated
tasks:
  build: { type: noop }
  ship: { needs: [build], requires_approval: true, type: noop }
  after: { needs: [ship], type: noop }
`);
    const approved = await fleet.startRun('gated');
    await waitFor(async () => {
      const res = await fleet.api<{ tasks: { taskId: string; status: string }[] }>(
        'GET',
        `/runs/${approved}`,
      );
      return res.body.tasks.find((t) => t.taskId === 'ship')?.status === 'BLOCKED';
    });
    const early = await fleet.api('POST', `/runs/${approved}/tasks/after/approve`, {});
    expect(early.status).toBe(409);
    const ok = await fleet.api('POST', `/runs/${approved}/tasks/ship/approve`, { by: 'alice' });
    expect(ok.status).toBe(202);
    expect((await fleet.waitForRun(approved)).status).toBe('SUCCESS');
    await expectSound(approved);

    const rejected = await fleet.startRun('gated');
    await waitFor(async () => {
      const res = await fleet.api<{ tasks: { taskId: string; status: string }[] }>(
        'GET',
        `/runs/${rejected}`,
      );
      return res.body.tasks.find((t) => t.taskId === 'ship')?.status === 'BLOCKED';
    });
    const no = await fleet.api('POST', `/runs/${rejected}/tasks/ship/reject`, {
      by: 'bob',
      reason: 'not today',
    });
    expect(no.status).toBe(202);
    const run = await fleet.waitForRun(rejected);
    expect(run.status).toBe('FAILED');
    expect(statuses(run)).toMatchObject({ build: 'SUCCESS', ship: 'FAILED', after: 'CANCELLED' });
    await expectSound(rejected);
  });

  it('cancels a run while a shell task runs, and its process is gone', async () => {
    const pidFile = `/tmp/relay-e2e-${process.pid}-${Date.now()}.pid`;
    await fleet.applyYaml(`
id: cancellable
tasks:
  long:
    type: shell
    with: { command: 'echo $$ > ${pidFile}; sleep 60' }
  later: { needs: [long], type: noop }
`);
    const runId = await fleet.startRun('cancellable');
    const { readFile } = await import('node:fs/promises');
    const pid = await waitFor(
      async () => Number((await readFile(pidFile, 'utf8').catch(() => '')).trim()) || 0,
    );
    expect(isAlive(pid)).toBe(true);
    const res = await fleet.api('POST', `/runs/${runId}/cancel`);
    expect(res.status).toBe(202);
    const run = await fleet.waitForRun(runId);
    expect(run.status).toBe('CANCELLED');
    expect(statuses(run)).toEqual({ long: 'CANCELLED', later: 'CANCELLED' });
    await waitFor(() => !isAlive(pid), { timeoutMs: 5000, message: `shell process ${pid} still alive` });
    expect((await fleet.api('POST', `/runs/${runId}/cancel`)).status).toBe(409);
    await expectSound(runId);
  });

  it('fails an attempt that runs past its timeout', async () => {
    await fleet.applyYaml(`
id: timeout
tasks:
  slow: { type: sleep, timeout: 300ms, with: { duration: 20s } }
`);
    const runId = await fleet.startRun('timeout');
    const run = await fleet.waitForRun(runId);
    expect(run.status).toBe('FAILED');
    expect(run.tasks[0]!.error).toMatch(/timed out/);
    await expectSound(runId);
  });
});

describe('at rest', () => {
  it('has acked every event: no consumer group keeps a pending entry', async () => {
    const streams: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await fleet.redis.scan(cursor, 'MATCH', `${fleet.prefix}:*`, 'TYPE', 'stream');
      streams.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    expect(streams).toEqual(expect.arrayContaining([`${fleet.prefix}:runs`, `${fleet.prefix}:work:default`]));
    await waitFor(
      async () => {
        for (const stream of streams) {
          const groups = (await fleet.redis.xinfo('GROUPS', stream)) as unknown[][];
          for (const group of groups) {
            const pending = Number(group[group.indexOf('pending') + 1]);
            if (pending !== 0) return false;
          }
        }
        return true;
      },
      { timeoutMs: 10_000, message: 'pending entries did not drain at idle' },
    );
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
