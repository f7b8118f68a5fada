// A manual clock meets a network database. With an SQLite app every step of a job between two
// timers is synchronous, so moving the clock by an hour runs the whole hour's work. A PostgreSQL
// query is real I/O: the answer comes back after the clock has moved on, and a job that awaits
// a query before it sets its next timer would find the hour over. So, in a worker whose app has
// a DATABASE_URL, the clock moves from timer to timer and, before each step, waits until the
// app's PostgreSQL queries (and connections) have answered: the hour then holds the same work as
// on a real clock, in the same order, every run.
import type { createRequire } from 'node:module';

interface Timer {
  readonly callAt: number;
}

export interface SteppedClock {
  readonly now: number;
  tickAsync(ms: number): Promise<number>;
  readonly timers?: Map<number, Timer>;
}

export interface DatabaseIo {
  /** Move `clock` forward by `ms`, one timer at a time, letting database answers arrive between steps. */
  advance(clock: SteppedClock, ms: number): Promise<void>;
}

/** Count the app's pg queries and connections in flight (the pg the app resolves from the course). */
export function trackDatabaseIo(courseRequire: ReturnType<typeof createRequire>): DatabaseIo | undefined {
  let Client: { prototype: Record<string, unknown> };
  try {
    ({ Client } = courseRequire('pg') as { Client: { prototype: Record<string, unknown> } });
  } catch {
    return undefined;
  }
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const settle = () => {
    if (--inFlight === 0) wake?.();
  };
  for (const name of ['query', 'connect'] as const) {
    const original = Client.prototype[name] as (...args: unknown[]) => unknown;
    Client.prototype[name] = function tracked(this: unknown, ...args: unknown[]) {
      inFlight++;
      let done = false;
      const once = () => {
        if (!done) {
          done = true;
          settle();
        }
      };
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        args[last] = function (this: unknown, ...results: unknown[]) {
          once();
          return (callback as (...a: unknown[]) => unknown).apply(this, results);
        };
      }
      let result: unknown;
      try {
        result = original.apply(this, args);
      } catch (error) {
        once();
        throw error;
      }
      const then = (result as { then?: unknown } | undefined)?.then;
      if (typeof then === 'function') (result as Promise<unknown>).then(once, once);
      else if (typeof callback !== 'function') once(); // a streaming query: not tracked
      return result;
    };
  }
  const answered = () =>
    inFlight === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          wake = () => {
            wake = undefined;
            resolve();
          };
        });
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  /**
   * Nothing in flight, and still nothing after two turns of the event loop: an answer's
   * continuations (the app's next `await`, the pool handing over a client) have run, and sent
   * their next query if they had one.
   */
  const quiet = async () => {
    for (;;) {
      await answered();
      await turn();
      if (inFlight > 0) continue;
      await turn();
      if (inFlight === 0) return;
    }
  };
  return {
    async advance(clock, ms) {
      const target = clock.now + ms;
      // Bounded: an app that sets a zero-delay timer forever still lets the check go on.
      for (let steps = 0; steps < 100_000; steps++) {
        await quiet();
        let next = Infinity;
        for (const timer of clock.timers?.values() ?? []) next = Math.min(next, timer.callAt);
        if (next > target) break;
        await clock.tickAsync(Math.max(0, next - clock.now));
      }
      if (target > clock.now) await clock.tickAsync(target - clock.now);
      await quiet();
    },
  };
}
