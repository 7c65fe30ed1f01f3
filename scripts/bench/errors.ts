/** Base class of the benchmark's errors. */
export class BenchError extends Error {
  override name = 'BenchError';
}

/** A scenario did not reach its end state in time (names the scenario and what was still pending). */
export class BenchTimeoutError extends BenchError {
  override name = 'BenchTimeoutError';
}

/** The API answered with an unexpected status. */
export class BenchApiError extends BenchError {
  override name = 'BenchApiError';
}
