/** Base class of the reaper's own errors. */
export class ReaperError extends Error {
  override name = 'ReaperError';
}
