/** Base class of @relay/invariants errors. */
export class InvariantsError extends Error {
  override name = 'InvariantsError';
}

/** An option of checkInvariants is out of range; `option` names it. */
export class InvalidInvariantOptionError extends InvariantsError {
  override name = 'InvalidInvariantOptionError';
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(`${option}: ${detail}`);
  }
}
