import type { Handler } from '../types.js';

/** `noop`: does nothing; output `null`. */
export const noopHandler: Handler = async () => null;
