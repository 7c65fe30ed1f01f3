import type { Redis } from 'ioredis';
import { BlockingTimeoutError, InterruptedError } from './errors.js';

/** How long `interrupt` waits for CLIENT UNBLOCK to end the command before disconnecting. */
const UNBLOCK_FALLBACK_MS = 1000;

/**
 * A dedicated connection for blocking reads (XREADGROUP/XREAD BLOCK), with a watchdog.
 *
 * A command that has not returned within its watchdog time rejects at once and the connection is
 * dropped (`disconnect()`, no auto-reconnect, so ioredis cannot re-send the stale command); the next
 * `run` opens a fresh one.
 *
 * `interrupt()` (stop during a BLOCK) first sends `CLIENT UNBLOCK <id> TIMEOUT` on the control
 * connection: the read returns as on a timeout, so no entry is handed to a socket about to close
 * (it would sit pending under this consumer until claimed). Only when that fails does it disconnect.
 */
export class BlockingConnection {
  private client: Redis | null = null;
  private clientId: number | null = null;
  private abortInFlight: ((err: Error) => void) | null = null;
  private interrupted = false;

  /**
   * @param open creates a new dedicated connection (createRedis(url, { blocking: true })).
   * @param control a non-blocking connection used to send CLIENT UNBLOCK.
   */
  constructor(
    private readonly open: () => Redis,
    private readonly control: Redis,
  ) {}

  /** Runs one command on the connection; rejects with BlockingTimeoutError after `watchdogMs`. */
  async run<T>(command: (client: Redis) => Promise<T>, watchdogMs: number): Promise<T> {
    if (this.interrupted) throw new InterruptedError();
    const client = this.client ?? this.connect();
    if (this.clientId === null) {
      // Learn the connection id (for CLIENT UNBLOCK) before blocking on it; once per connection.
      const id = await client.call('CLIENT', ['ID']);
      if (this.client === client && typeof id === 'number') this.clientId = id;
      if (this.interrupted) throw new InterruptedError();
    }
    let timer: NodeJS.Timeout | undefined;
    const aborted = new Promise<never>((_, reject) => {
      this.abortInFlight = (err) => {
        this.drop(client);
        reject(err);
      };
      timer = setTimeout(() => this.abortInFlight?.(new BlockingTimeoutError(watchdogMs)), watchdogMs);
    });
    const pending = command(client);
    // The losing side of the race may reject later (connection closed): keep it from being unhandled.
    pending.catch(() => {});
    aborted.catch(() => {});
    try {
      return await Promise.race([pending, aborted]);
    } finally {
      clearTimeout(timer);
      this.abortInFlight = null;
    }
  }

  /**
   * For shutdown: ends the command in flight, if any (it resolves as timed out, or rejects with
   * InterruptedError), and makes every later `run` reject with InterruptedError.
   */
  interrupt(): void {
    this.interrupted = true;
    const abort = this.abortInFlight;
    if (!abort) return;
    const abortIfStillRunning = (): void => {
      if (this.abortInFlight === abort) abort(new InterruptedError());
    };
    if (this.clientId === null) {
      abortIfStillRunning();
      return;
    }
    const fallback = setTimeout(abortIfStillRunning, UNBLOCK_FALLBACK_MS);
    fallback.unref();
    this.control.call('CLIENT', ['UNBLOCK', this.clientId, 'TIMEOUT']).then(
      (unblocked) => {
        // 0: not blocked (yet): the command may still be on its way, so cut the connection.
        if (unblocked !== 1) {
          clearTimeout(fallback);
          abortIfStillRunning();
        }
      },
      () => {
        clearTimeout(fallback);
        abortIfStillRunning();
      },
    );
  }

  /** Closes the connection: QUIT when idle, disconnect when a command is in flight. */
  async close(): Promise<void> {
    this.abortInFlight?.(new InterruptedError());
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (client.status !== 'ready') {
      client.disconnect();
      return;
    }
    try {
      await client.quit();
    } catch {
      client.disconnect();
    }
  }

  private connect(): Redis {
    const client = this.open();
    this.client = client;
    // A reconnect gets a new id: forget the old one (a command re-sent by ioredis after a reconnect
    // can then only be interrupted by disconnecting).
    client.on('close', () => {
      if (this.client === client) this.clientId = null;
    });
    return client;
  }

  private drop(client: Redis): void {
    if (this.client === client) {
      this.client = null;
      this.clientId = null;
    }
    client.disconnect();
  }
}
