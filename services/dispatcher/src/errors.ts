/** Base class of the dispatcher's own errors. */
export class DispatcherError extends Error {
  override name = 'DispatcherError';
}
