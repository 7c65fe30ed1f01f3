/** A loop's interruptible sleep: one sleep at a time, ended by its deadline or by a wake-up. */
export interface Sleeper {
  /** Resolves at `at` (epoch ms by the sleeper's clock; at least 1 ms from now), or when woken. */
  until(at: number): Promise<void>;
  /** Ends the current sleep now, if there is one. */
  wake(): void;
  /** Ends the current sleep if it would last past `at` (something became due earlier). */
  wakeIfAfter(at: number): void;
}

/** A {@link Sleeper} on `now` (default Date.now). */
export function createSleeper(now: () => number = Date.now): Sleeper {
  let wakeAt = Number.POSITIVE_INFINITY;
  let end: (() => void) | undefined;
  return {
    until(at) {
      return new Promise((resolve) => {
        wakeAt = at;
        const timer = setTimeout(done, Math.max(1, at - now()));
        function done(): void {
          clearTimeout(timer);
          end = undefined;
          wakeAt = Number.POSITIVE_INFINITY;
          resolve();
        }
        end = done;
      });
    },
    wake() {
      end?.();
    },
    wakeIfAfter(at) {
      if (at < wakeAt) end?.();
    },
  };
}
