import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { AppliedWorkflow, IgnoredAnswer, RunDetail, RunList, StartedRun, WorkflowList } from '../answers.js';
import type { ApiClient } from '../api-client.js';
import { ApiError, CliError, UnreachableError } from '../errors.js';

const FINISHED = new Set(['SUCCESS', 'FAILED', 'CANCELLED']);

/** Bounds of the `relay run --wait` poll delay, and its multiple of the last poll's duration. */
export const POLL_MIN_MS = 250;
export const POLL_MAX_MS = 5_000;
export const POLL_DURATION_FACTOR = 10;

/**
 * How long `relay run --wait` waits before its next GET /runs/:id, given how long the last one took.
 * The answer (and the server's work to build it) grows with the run's task count, and so does the
 * request's duration: waiting 10x that keeps the poll's share of the server's time near 1/11 however
 * big the run (a 3 MB answer is fetched every few seconds, not 4 times a second), while a small run,
 * answered in a few ms, is still polled every 250 ms. A slow, loaded server is likewise polled less.
 * Capped at 5 s so a huge run still reports progress and its end.
 */
export function nextPollDelay(lastRequestMs: number): number {
  return Math.min(POLL_MAX_MS, Math.max(POLL_MIN_MS, Math.round(POLL_DURATION_FACTOR * lastRequestMs)));
}

/**
 * How long `relay run --wait` keeps polling through an API that does not answer (ingest restarting,
 * a deploy, a 502/503/504 from a proxy) before it gives up on following the run.
 */
export const WAIT_OUTAGE_MS = 5 * 60_000;
/** The delay between polls while the API does not answer. */
export const OUTAGE_POLL_MS = 1_000;

/** An error of one poll that says nothing about the run: the next poll may well succeed. */
function isTransient(err: unknown): boolean {
  return err instanceof UnreachableError || (err instanceof ApiError && [502, 503, 504].includes(err.status));
}

/** Time as `relay run --wait` reads and spends it; tests pass a fake one. */
export interface PollClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

const SYSTEM_CLOCK: PollClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Expands directories to their *.yaml / *.yml / *.json files (sorted; a subdirectory so named is
 * skipped, a broken link is kept and reported when read); keeps files as given. A directory with none
 * is an error (a wrong path should not look like success).
 */
export async function expandWorkflowFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => {
      throw new CliError(`apply: no such file or directory: ${path}`);
    });
    if (info.isDirectory()) {
      const candidates = (await readdir(path)).filter((n) => /\.(ya?ml|json)$/i.test(n)).sort();
      const isDirectory = await Promise.all(
        candidates.map((n) =>
          stat(join(path, n)).then(
            (s) => s.isDirectory(),
            () => false,
          ),
        ),
      );
      const names = candidates.filter((_, i) => !isDirectory[i]);
      if (names.length === 0) throw new CliError(`apply: no *.yaml, *.yml or *.json files in ${path}`);
      files.push(...names.map((n) => join(path, n)));
    } else {
      files.push(path);
    }
  }
  return files;
}

/** `relay apply FILE...`: registers each workflow; reports created / updated / unchanged. */
export async function applyWorkflows(api: ApiClient, paths: string[], print: (line: string) => void) {
  if (paths.length === 0) throw new CliError('apply: give at least one FILE (YAML or JSON) or directory');
  const files = await expandWorkflowFiles(paths);
  let failed = 0;
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      failed += 1;
      print(`${file}: cannot read: ${(err as Error).message}`);
      continue;
    }
    const contentType = extname(file).toLowerCase() === '.json' ? 'application/json' : 'application/yaml';
    try {
      const result = await api.post('/workflows', { text, contentType }, AppliedWorkflow);
      const what = result.status ?? 'applied';
      print(`${file}: ${what} workflow ${result.id} (${result.tasks.length} tasks)`);
    } catch (err) {
      // A missing or wrong token fails every file alike: say it once.
      if (!(err instanceof ApiError) || err.status === 401) throw err;
      failed += 1;
      const [first, ...rest] = rejectionLines(err);
      print(`${file}: ${first}`);
      for (const line of rest) print(`  ${line}`);
    }
  }
  if (failed > 0) throw new CliError(`apply: ${failed} of ${files.length} file(s) rejected`);
}

interface Issue {
  path: string;
  message: string;
  line?: number | undefined;
  column?: number | undefined;
}

/**
 * What to print for a rejected file, each problem once: the error's message when it already names the
 * only issue (a YAML/JSON syntax error, a document that is not a mapping, one bad field), else a
 * count followed by one line per issue, `(document)` standing for an issue of the whole document.
 */
export function rejectionLines(err: ApiError): string[] {
  const issues = asIssues(err.details);
  if (issues.length === 0 || (issues.length === 1 && err.message.includes(issues[0]!.message))) {
    return [err.message];
  }
  return [`${err.status} ${err.code}: ${issues.length} issues`, ...issues.map(formatIssue)];
}

function formatIssue(issue: Issue): string {
  const where = issue.line ? ` (line ${issue.line}${issue.column ? `, column ${issue.column}` : ''})` : '';
  return `${issue.path || '(document)'}${where}: ${issue.message}`;
}

function asIssues(details: unknown): Issue[] {
  const list: unknown[] = Array.isArray(details)
    ? details
    : Array.isArray((details as { issues?: unknown })?.issues)
      ? (details as { issues: unknown[] }).issues
      : [];
  return list.map((issue) => {
    const { path, message, line, column } = (issue ?? {}) as Record<string, unknown>;
    return {
      path: typeof path === 'string' ? path : '',
      message: typeof message === 'string' ? message : JSON.stringify(issue),
      line: typeof line === 'number' ? line : undefined,
      column: typeof column === 'number' ? column : undefined,
    };
  });
}

/**
 * The text of `--input`: the JSON itself, `@FILE` for a file's content, or `-` for standard input (an
 * argument is capped by the OS at about 128 KiB; a run's input may be up to RELAY_MAX_BODY_BYTES).
 */
async function inputText(raw: string): Promise<{ text: string; from: string }> {
  if (raw === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return { text: Buffer.concat(chunks).toString('utf8'), from: '(standard input) ' };
  }
  if (!raw.startsWith('@')) return { text: raw, from: '' };
  const path = raw.slice(1);
  try {
    return { text: await readFile(path, 'utf8'), from: `(${path}) ` };
  } catch (err) {
    throw new CliError(`run: --input ${raw}: cannot read: ${(err as Error).message}`);
  }
}

/** `relay run WORKFLOW [--input JSON|@FILE|-] [--wait]`: starts a run; with --wait, follows it to the end. */
export async function startRun(
  api: ApiClient,
  workflowId: string | undefined,
  opts: { input?: string | undefined; wait: boolean; clock?: PollClock },
  print: (line: string) => void,
): Promise<number> {
  if (!workflowId) throw new CliError('run: give a WORKFLOW id');
  let input: unknown;
  if (opts.input !== undefined) {
    const { text, from } = await inputText(opts.input);
    try {
      input = JSON.parse(text);
    } catch (err) {
      throw new CliError(`run: --input ${from}is not valid JSON: ${(err as Error).message}`);
    }
  }
  const run = await api.post(
    `/workflows/${encodeURIComponent(workflowId)}/runs`,
    input === undefined ? {} : { input },
    StartedRun,
  );
  print(`run ${run.id} started (${workflowId})`);
  if (!opts.wait) return 0;
  const clock = opts.clock ?? SYSTEM_CLOCK;
  const seen = new Map<string, string>();
  let outageSince: number | undefined;
  for (;;) {
    const requestedAt = clock.now();
    let detail: RunDetail;
    try {
      detail = await api.get(`/runs/${encodeURIComponent(run.id)}`, RunDetail);
    } catch (err) {
      if (!isTransient(err)) throw err;
      const message = (err as Error).message;
      if (outageSince === undefined) {
        outageSince = requestedAt;
        print(`  (${message}; retrying for up to ${WAIT_OUTAGE_MS / 60_000} min)`);
      } else if (clock.now() - outageSince >= WAIT_OUTAGE_MS) {
        throw new CliError(
          `run ${run.id}: no answer about it for ${WAIT_OUTAGE_MS / 60_000} min (${message}); it may still be running: relay status ${run.id}`,
        );
      }
      await clock.sleep(OUTAGE_POLL_MS);
      continue;
    }
    if (outageSince !== undefined) {
      print('  (the API answers again)');
      outageSince = undefined;
    }
    const delay = nextPollDelay(clock.now() - requestedAt);
    for (const task of detail.tasks) {
      if (seen.get(task.taskId) !== task.status) {
        seen.set(task.taskId, task.status);
        print(`  ${task.taskId}: ${task.status}${task.attempt > 1 ? ` (attempt ${task.attempt})` : ''}`);
      }
    }
    if (FINISHED.has(detail.status)) {
      print(`run ${run.id} ${detail.status}${detail.error ? `: ${printable(detail.error)}` : ''}`);
      return detail.status === 'SUCCESS' ? 0 : 1;
    }
    await clock.sleep(delay);
  }
}

/** `relay status RUN`: the run and a table of its tasks. */
/** `relay workflows`: every registered workflow, by id. */
export async function listWorkflows(api: ApiClient, print: (line: string) => void) {
  const { workflows } = await api.get('/workflows', WorkflowList);
  const rows = workflows.map((w) => [w.id, printable(w.name), w.updatedAt]);
  for (const line of table(['WORKFLOW', 'NAME', 'UPDATED'], rows)) print(line);
}

/** `relay export WORKFLOW`: the workflow's current definition as YAML that `relay apply` takes back. */
export async function exportWorkflow(
  api: ApiClient,
  workflowId: string | undefined,
  write: (text: string) => void,
) {
  if (!workflowId) throw new CliError('export: give a WORKFLOW id');
  write(await api.getText(`/workflows/${encodeURIComponent(workflowId)}`, 'application/yaml'));
}

export async function showRun(api: ApiClient, runId: string | undefined, print: (line: string) => void) {
  if (!runId) throw new CliError('status: give a RUN id');
  const run = await api.get(`/runs/${encodeURIComponent(runId)}`, RunDetail);
  print(`run ${run.id}  workflow ${run.workflowId}  ${run.status}`);
  print(`started ${run.startedAt}${run.finishedAt ? `  finished ${run.finishedAt}` : ''}`);
  if (run.error) print(`error: ${printable(run.error)}`);
  const rows = run.tasks.map((t) => [
    t.taskId,
    t.status,
    String(t.attempt),
    t.error
      ? printable(t.error.split('\n')[0]!.slice(0, 80))
      : t.output !== null
        ? JSON.stringify(t.output).slice(0, 80)
        : t.decision
          ? printable(`${t.decision.decision}${t.decision.by ? ` by ${t.decision.by}` : ''}`)
          : '',
  ]);
  for (const line of table(['TASK', 'STATUS', 'ATTEMPT', 'OUTPUT / ERROR'], rows)) print(line);
}

/** `relay runs [--workflow ID] [--status S] [--limit N] [--cursor C]`; a full page notes its next cursor. */
export async function listRuns(
  api: ApiClient,
  opts: {
    workflow?: string | undefined;
    status?: string | undefined;
    limit?: string | undefined;
    cursor?: string | undefined;
  },
  print: (line: string) => void,
  note: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
) {
  const query = new URLSearchParams();
  if (opts.workflow) query.set('workflowId', opts.workflow);
  if (opts.status) query.set('status', opts.status);
  if (opts.limit) query.set('limit', opts.limit);
  if (opts.cursor) query.set('cursor', opts.cursor);
  const suffix = query.size > 0 ? `?${query}` : '';
  const { runs, nextCursor } = await api.get(`/runs${suffix}`, RunList);
  const rows = runs.map((r) => [r.id, r.workflowId, r.status, r.startedAt, r.finishedAt ?? '']);
  for (const line of table(['RUN', 'WORKFLOW', 'STATUS', 'STARTED', 'FINISHED'], rows)) print(line);
  // On standard error: the table stays what a pipe reads.
  if (nextCursor) note(`more runs: add --cursor ${nextCursor}`);
}

/**
 * `text` safe to print on one terminal line: control characters (an ANSI escape in a task's stderr
 * would clear the screen or recolour it) and line breaks shown as escapes.
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this replaces
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** `relay approve|reject RUN TASK` and `relay cancel RUN`. */
export async function decide(
  api: ApiClient,
  action: 'approve' | 'reject' | 'cancel',
  args: {
    run?: string | undefined;
    task?: string | undefined;
    by?: string | undefined;
    reason?: string | undefined;
  },
  print: (line: string) => void,
) {
  if (!args.run) throw new CliError(`${action}: give a RUN id`);
  const run = encodeURIComponent(args.run);
  if (action === 'cancel') {
    await api.post(`/runs/${run}/cancel`, args.reason ? { reason: args.reason } : undefined, IgnoredAnswer);
    print(`run ${args.run}: cancel requested`);
    return;
  }
  if (!args.task) throw new CliError(`${action}: give a TASK id`);
  const body = action === 'approve' ? { by: args.by } : { by: args.by, reason: args.reason };
  await api.post(`/runs/${run}/tasks/${encodeURIComponent(args.task)}/${action}`, body, IgnoredAnswer);
  print(`run ${args.run} task ${args.task}: ${action === 'approve' ? 'approved' : 'rejected'}`);
}

/** Left-aligned text table. */
export function table(header: string[], rows: string[][]): string[] {
  // A loop, not Math.max(...rows): a spread of 100,000+ rows overflows the call stack.
  const widths = header.map((h) => h.length);
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i < widths.length && cell.length > widths[i]!) widths[i] = cell.length;
    });
  }
  const format = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [format(header), ...rows.map(format)];
}
