/** A wake-up latch: `wait` resolves on `wake()` (even one that came first), on timeout or on abort. */
export class WakeLatch {
  private pending = false;
  private resolveWaiter: (() => void) | null = null;

  /** Wakes the current waiter, or the next one if nobody waits. */
  wake(): void {
    if (this.resolveWaiter) this.resolveWaiter();
    else this.pending = true;
  }

  /** Waits for a wake-up, at most `ms`; returns early when `signal` aborts. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.pending || signal.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.resolveWaiter = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.resolveWaiter = done;
    });
  }
}
