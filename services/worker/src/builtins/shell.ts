import { type ChildProcess, spawn } from 'node:child_process';
import { SHELL_REF_PREFIX } from '@relay/template';
import { NonRetryableError, ShellCommandError, TaskAbortedError } from '../errors.js';
import type { Handler, TaskContext } from '../types.js';
import { parseJsonOrText, withObject } from './input.js';

/** Bytes of stderr kept for the error message of a failed command. */
export const STDERR_TAIL_BYTES = 2048;
/** Variables of the worker's own environment a command inherits; nothing else leaks (no DATABASE_URL, tokens). */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ'] as const;
/**
 * Linux's MAX_ARG_STRLEN (32 pages): execve fails with E2BIG when one argument or `NAME=value`
 * environment string, counted in bytes with its terminating NUL, is longer. `sh -c` takes the whole
 * command as one argument, so this caps the templated command.
 */
export const MAX_ARG_STRLEN = 131_072;
/** What to do instead, for the messages of a command or environment too large to exec. */
const TOO_LARGE_HINT = 'pass large values through a file or URL that the command reads, or use an http task';

/** Options of {@link createShellHandler}. */
export interface ShellHandlerOptions {
  /** Largest stdout accepted; more kills the command and fails the attempt for good. */
  maxStdoutBytes: number;
  /** The worker's environment (default process.env); only PATH, HOME, LANG, TMPDIR, TZ are passed on. */
  env?: NodeJS.ProcessEnv;
  /** Called with the shell's pid once spawned (tests, diagnostics). */
  onSpawn?: (pid: number, ctx: TaskContext) => void;
}

/**
 * The environment of a command: a few inherited variables, then `with.env`, then the attempt's RELAY_*
 * ids (last: validation keeps `with.env` from naming them, and a definition stored before it did cannot
 * override them either).
 */
export function commandEnv(
  ctx: TaskContext,
  workerEnv: NodeJS.ProcessEnv,
  extra: Record<string, unknown> | undefined,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = workerEnv[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra ?? {})) {
    if (value === undefined || value === null) continue;
    env[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  env.RELAY_RUN_ID = ctx.runId;
  env.RELAY_TASK_ID = ctx.taskId;
  env.RELAY_TASK_RUN_ID = ctx.taskRunId;
  env.RELAY_ATTEMPT = String(ctx.attempt);
  env.RELAY_WORKFLOW_ID = ctx.workflowId;
  return env;
}

/** `204,812`: byte counts in messages about exec limits. */
const formatBytes = (n: number) => n.toLocaleString('en-US');

/** What an environment string of the shell is, in the workflow's terms. */
function envField(name: string, extraNames: Set<string>): string {
  if (name.startsWith(SHELL_REF_PREFIX))
    return `the value of reference ${name.slice(SHELL_REF_PREFIX.length)} of with.command (${name})`;
  return extraNames.has(name) ? `with.env.${name}` : `environment variable ${name}`;
}

/**
 * Fails for good when the command or one environment string holds a NUL (no program argument or
 * environment string can: spawn would throw Node's own ERR_INVALID_ARG_VALUE on every attempt) or is
 * over {@link MAX_ARG_STRLEN}: exec would fail the same way on every attempt, with a bare
 * `spawn E2BIG`. Other systems have no per-string limit, only the total one.
 */
function checkExecStrings(command: string, env: Record<string, string>, extraNames: Set<string>): void {
  const nul =
    'contains a NUL character (\\u0000), which a program argument or environment string cannot hold';
  if (command.includes('\0')) throw new NonRetryableError(`with.command ${nul}`);
  for (const [name, value] of Object.entries(env)) {
    if (value.includes('\0')) throw new NonRetryableError(`${envField(name, extraNames)} ${nul}`);
  }
  if (process.platform !== 'linux') return;
  const max = formatBytes(MAX_ARG_STRLEN - 1);
  const commandBytes = Buffer.byteLength(command, 'utf8');
  if (commandBytes + 1 > MAX_ARG_STRLEN) {
    throw new NonRetryableError(
      `with.command is ${formatBytes(commandBytes)} bytes after templating; Linux passes at most ${max} bytes in one argument: ${TOO_LARGE_HINT}`,
    );
  }
  for (const [name, value] of Object.entries(env)) {
    const bytes = Buffer.byteLength(`${name}=${value}`, 'utf8');
    if (bytes + 1 > MAX_ARG_STRLEN) {
      throw new NonRetryableError(
        `${envField(name, extraNames)} is ${formatBytes(bytes)} bytes after templating, counting "${name}="; Linux passes at most ${max} bytes in one environment string: ${TOO_LARGE_HINT}`,
      );
    }
  }
}

/** The message of an E2BIG from spawn once each string fits: argv and environment together are too large. */
function totalTooLargeMessage(argv: string[], env: Record<string, string>): string {
  let bytes = 0;
  for (const arg of argv) bytes += Buffer.byteLength(arg, 'utf8') + 1;
  for (const [name, value] of Object.entries(env)) bytes += Buffer.byteLength(`${name}=${value}`, 'utf8') + 1;
  return `with.command and with.env are ${formatBytes(bytes)} bytes in total after templating; Linux passes at most ARG_MAX (a quarter of the stack size limit, 2,097,152 bytes by default) to a new program: ${TOO_LARGE_HINT}`;
}

/** Starts `/bin/sh -c command` in its own process group; an E2BIG becomes a permanent, readable error. */
function spawnShell(command: string, env: Record<string, string>) {
  try {
    return spawn('/bin/sh', ['-c', command], { detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    // Node throws E2BIG synchronously (only ENOENT, EACCES and the like become 'error' events).
    if ((err as NodeJS.ErrnoException).code === 'E2BIG') {
      throw new NonRetryableError(totalTooLargeMessage(['/bin/sh', '-c', command], env), { cause: err });
    }
    throw err;
  }
}

/**
 * Starts the guard of a command's process group: a `/bin/sh` that blocks reading fd 3, a pipe whose
 * only writer is this worker, and SIGKILLs the group once it reads end-of-file. When the worker dies,
 * even by SIGKILL (the OOM killer, a forced pod deletion), the kernel closes its end of the pipe, and
 * the command and everything it started stop too, instead of running on unowned beside the attempt
 * that replaces it. The guard is the worker's child, outside the group, so a command's `wait` does not
 * wait for it; on a normal end the worker kills it first. One that cannot start leaves the command
 * unguarded, as before.
 */
function guardGroup(pgid: number): ChildProcess {
  // pgid is a number: nothing of the task reaches this command line.
  const guard = spawn('/bin/sh', ['-c', `read -r _ <&3; kill -9 -${pgid} 2>/dev/null`], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: {},
  });
  guard.on('error', () => {});
  // The worker's end of the pipe: nothing is written or read there; a reset when the guard dies is moot.
  guard.stdio[3]?.on('error', () => {});
  return guard;
}

/** Kills a whole process group; a group already gone is fine. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * `shell {command, env?}`: runs `/bin/sh -c command` in its own process group. Output = stdout,
 * JSON-parsed when it is JSON, else the text without its trailing newline. A non-zero exit fails the
 * attempt (retryable) with stderr's last 2 KiB. On abort, and once the shell exits, the whole group
 * is killed so no background child outlives the attempt.
 */
export function createShellHandler(opts: ShellHandlerOptions): Handler {
  return async (input, ctx) => {
    const w = withObject(input, 'shell');
    if (typeof w.command !== 'string' || w.command.trim() === '') {
      throw new NonRetryableError('with.command: expected a non-empty string');
    }
    if (w.env !== undefined && w.env !== null && (typeof w.env !== 'object' || Array.isArray(w.env))) {
      throw new NonRetryableError('with.env: expected a mapping of variable names to strings');
    }
    const env = commandEnv(
      ctx,
      opts.env ?? process.env,
      (w.env ?? undefined) as Record<string, unknown> | undefined,
    );
    checkExecStrings(w.command, env, new Set(Object.keys(w.env ?? {})));
    ctx.signal.throwIfAborted();
    const child = spawnShell(w.command, env);
    const pid = child.pid;
    if (pid === undefined) {
      const err = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw new ShellCommandError(`could not start /bin/sh: ${err.message}`, null, '');
    }
    const guard = guardGroup(pid);
    opts.onSpawn?.(pid, ctx);

    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let overflow = false;
    let stderr = Buffer.alloc(0);
    child.stdout.on('data', (chunk: Buffer) => {
      if (overflow) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > opts.maxStdoutBytes) {
        overflow = true;
        killGroup(pid);
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > STDERR_TAIL_BYTES * 2) stderr = stderr.subarray(stderr.length - STDERR_TAIL_BYTES);
    });
    const onAbort = () => killGroup(pid);
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      // 'exit' first: kill what the shell left behind (it may hold stdout open), then wait for the pipes.
      child.once('exit', () => {
        guard.kill('SIGKILL');
        killGroup(pid);
      });
      child.once('close', (c, s) => resolve([c, s]));
    });
    ctx.signal.removeEventListener('abort', onAbort);

    if (ctx.signal.aborted) {
      const reason = ctx.signal.reason;
      throw reason instanceof Error ? reason : new TaskAbortedError(String(reason));
    }
    if (overflow) {
      throw new NonRetryableError(
        `stdout exceeded the limit of ${opts.maxStdoutBytes} bytes (RELAY_MAX_OUTPUT_BYTES); the command was killed`,
      );
    }
    const tail = stderrTail(stderr);
    if (code !== 0) {
      const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
      throw new ShellCommandError(tail ? `command ${how}: ${tail}` : `command ${how}`, code, tail);
    }
    const text = Buffer.concat(stdout)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    return parseJsonOrText(text);
  };
}

/** The last STDERR_TAIL_BYTES of stderr, from the start of a line when a cut falls inside one. */
export function stderrTail(buf: Buffer): string {
  let tail = buf.length > STDERR_TAIL_BYTES ? buf.subarray(buf.length - STDERR_TAIL_BYTES) : buf;
  if (tail !== buf && buf[buf.length - STDERR_TAIL_BYTES - 1] !== 0x0a) {
    // The cut fell inside a line: start at the next one, unless that leaves nothing but the last line's end.
    const newline = tail.indexOf(0x0a);
    if (newline !== -1 && newline < tail.length - 1) tail = tail.subarray(newline + 1);
  }
  // A cut may split a UTF-8 sequence: drop the replacement character it leaves.
  return tail
    .toString('utf8')
    .replace(/^\uFFFD+/, '')
    .trimEnd();
}
