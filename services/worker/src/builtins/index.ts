import type { Handler } from '../types.js';
import { createHttpHandler } from './http.js';
import { noopHandler } from './noop.js';
import { createShellHandler, type ShellHandlerOptions } from './shell.js';
import { sleepHandler } from './sleep.js';

export { createHttpHandler, type HttpHandlerOptions, httpHandler } from './http.js';
export { noopHandler } from './noop.js';
export { commandEnv, createShellHandler, type ShellHandlerOptions, STDERR_TAIL_BYTES } from './shell.js';
export { sleepHandler } from './sleep.js';

/**
 * The built-in task types of SPEC section 3: noop, sleep, shell, http. `maxStdoutBytes`
 * (RELAY_MAX_OUTPUT_BYTES) also caps the http task's response body.
 */
export function builtinHandlers(opts: ShellHandlerOptions): Record<string, Handler> {
  return {
    noop: noopHandler,
    sleep: sleepHandler,
    shell: createShellHandler(opts),
    http: createHttpHandler({ maxBodyBytes: opts.maxStdoutBytes }),
  };
}
