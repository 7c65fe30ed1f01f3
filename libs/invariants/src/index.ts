export { checkInvariants } from './check.js';
export { InvalidInvariantOptionError, InvariantsError } from './errors.js';
export type { CheckOptions, InvariantRule, Violation } from './types.js';
