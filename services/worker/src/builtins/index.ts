import type { Handler } from '../types.js';
import { httpHandler } from './http.js';
import { noopHandler } from './noop.js';
import { createShellHandler, type ShellHandlerOptions } from './shell.js';
import { sleepHandler } from './sleep.js';

export { httpHandler } from './http.js';
export { noopHandler } from './noop.js';
export { commandEnv, createShellHandler, type ShellHandlerOptions, STDERR_TAIL_BYTES } from './shell.js';
export { sleepHandler } from './sleep.js';

/** The built-in task types of SPEC section 3: noop, sleep, shell, http. */
export function builtinHandlers(shell: ShellHandlerOptions): Record<string, Handler> {
  return { noop: noopHandler, sleep: sleepHandler, shell: createShellHandler(shell), http: httpHandler };
}
