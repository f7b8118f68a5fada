// In a worker: the clock the course drives (see the comment in installWorkerClock), with the Date,
// timers and monotonic clocks the app reads, and the course's messages that move it, hold it and
// ask where it stands.
import os from 'node:os';
import timers from 'node:timers';
import timerPromises from 'node:timers/promises';
import module from 'node:module';
import { cloak } from './cloak.ts';
import { trackDatabaseIo, type DatabaseIo } from './clock-io.ts';
import type { Assignment, HostToWorker, WorkerToHost } from './protocol.ts';

/**
 * A timer of a moment or less (a yield to other work, a short back-off) runs on real time on the
 * manual clock too, as on any machine: nothing waits for the course to move the clock past it.
 * The longer ones (a simulated network call, a schedule) wait for the course's moves.
 */
const MOMENT_MS = 10;

export interface WorkerClock {
  /** Answer a course message about the clock (move, hold, query); false for any other message. */
  answer(message: HostToWorker, send: (message: WorkerToHost) => void, fatal: (error: unknown) => void): boolean;
}

/** Put the assignment's clock in place (none for the real clock), before the app is imported. */
export function installWorkerClock(assignment: Assignment, courseRequire: NodeJS.Require): WorkerClock {
  // A clock the course drives: timers started by the app fire only when the check advances
  // time, so a check about timers takes milliseconds and gives the same verdict every run. The
  // date goes on with real time besides, as on any machine (a check moves it further, or holds it
  // still for a moment): an app cannot tell a check from people by a date that never moves.
  // People using the app (serve, the playground) get the same clock, 'flowing': its timers also fire
  // with real time, so the app runs on the same timer functions whether a check or a person is there.
  type Clock = { tickAsync(ms: number): Promise<number>; countTimers(): number; setSystemTime(now: number): void; now: number };
  let clock: Clock | undefined;
  let databaseIo: DatabaseIo | undefined;
  /** On the manual clock: the date held still by the course (without the clock's moves since), or undefined while it goes on. */
  let heldAt: number | undefined;
  /** On the manual clock: the date is real time plus `offset` plus the clock's moves. */
  let offset = 0;
  /** The date (without the clock's moves) when the timers last stood level with it. */
  let level = 0;
  /** How much of the clock's moves were the timers catching up with real time (already in the date). */
  let caughtUp = 0;
  /** On the flowing clock: how far the course moved it (the date is real time plus `offset` plus these). */
  let flowingMoves = 0;
  /** On the flowing clock, during a move: the fake clock's count when it began. */
  let movingFrom: number | undefined;
  /** While the timers catch up: the clock's moves when the catching up began (the date stays put meanwhile). */
  let catchingFrom: number | undefined;
  const RealDate = Date;
  const realTimers = { setTimeout, clearTimeout, setInterval, clearInterval } as const;
  const realTimerPromises = { setTimeout: timerPromises.setTimeout, setInterval: timerPromises.setInterval, setImmediate: timerPromises.setImmediate };
  if (assignment.clock === 'manual' || assignment.clock === 'flowing') {
    const FakeTimers = courseRequire('@sinonjs/fake-timers') as {
      install(config: object): Clock;
    };
    const manual = assignment.clock === 'manual';
    const realHandle = realTimers.setTimeout(() => {}, 0);
    realTimers.clearTimeout(realHandle);
    const TimeoutPrototype = Object.getPrototypeOf(realHandle) as object;
    clock = FakeTimers.install({
      // The fake clock counts time for the timers only: the course's moves (and, flowing, real time
      // besides); the date is real time plus the moves, on either clock.
      now: 0,
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'],
      shouldAdvanceTime: !manual,
      advanceTimeDelta: 10,
    });
    offset = (assignment.clockStart ?? RealDate.now()) - (assignment.clockSentAt ?? RealDate.now());
    if (!manual) {
      // Flowing: the date goes on with real time (the fake clock's own count lags it when the
      // machine is busy), plus the course's moves.
      const fake = clock;
      // During a move, a timer that fires sees the moment it was due.
      const moved = () => flowingMoves + (movingFrom === undefined ? 0 : fake.now - movingFrom);
      globalThis.Date = courseDate(() => RealDate.now() + offset + moved());
      moveMonotonicClocks(moved);
    } else {
      const moves = clock;
      level = RealDate.now() + offset;
      const moved = () => catchingFrom ?? moves.now;
      globalThis.Date = courseDate(() => (heldAt ?? RealDate.now() + offset) + moved());
      moveMonotonicClocks(() => moved() - caughtUp);
      // How far the date has gone on since the timers last stood level with it: a timer set now is
      // due that much later on the timers' count, so that it comes due when the date says.
      dueLater(() => Math.max(0, Math.floor(Date.now() - (level + moves.now))));
    }
    // The clock's timers stand where Node's were, looking like them (cloak.ts): in the global scope,
    // in node:timers, and (timers/promises, util.promisify(setTimeout)) as promises.
    const patched = timers as unknown as Record<string, unknown>;
    for (const name of ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] as const) {
      const stand = globalThis[name] as (...args: unknown[]) => unknown;
      // A handle the clock makes looks like Node's: a Timeout.
      const shaped = name.startsWith('set')
        ? function (this: unknown, ...args: unknown[]) {
            const handle = Reflect.apply(stand, this, args) as object;
            if (handle && typeof handle === 'object' && Object.getPrototypeOf(handle) === Object.prototype) Object.setPrototypeOf(handle, TimeoutPrototype);
            return handle;
          }
        : stand;
      const fitted = cloak(shaped, realTimers[name]) as never;
      globalThis[name] = fitted;
      patched[name] = fitted;
    }
    const promised = timerPromises as unknown as Record<string, object>;
    for (const [name, real] of Object.entries(realTimerPromises)) {
      if (promised[name] !== real) promised[name] = cloak(promised[name]!, real);
    }
    module.syncBuiltinESMExports();
    if (assignment.env.DATABASE_URL) databaseIo = trackDatabaseIo(courseRequire);
  }

  /** Timers set while the date is ahead of the timers' count are due later on it by that much (`lag`). */
  function dueLater(lag: () => number): void {
    const fakeSetTimeout = globalThis.setTimeout;
    const fakeSetInterval = globalThis.setInterval;
    const fakeClearTimeout = globalThis.clearTimeout;
    const fakeClearInterval = globalThis.clearInterval;
    const delayOf = (delay: unknown) => Math.max(0, Number(delay) || 0);
    /** An interval set while behind: its first call's timeout, and the interval it starts. */
    const started = new Map<number, { repeating?: ReturnType<typeof setInterval> }>();
    /** The moments' timers (see MOMENT_MS), which Node's own functions run and clear. */
    const moments = new WeakSet<object>();
    globalThis.setTimeout = function setTimeout(handler: (...a: unknown[]) => void, delay?: number, ...args: unknown[]) {
      if (delayOf(delay) <= MOMENT_MS) {
        const handle = realTimers.setTimeout(handler, delay, ...args);
        moments.add(handle);
        return handle;
      }
      return fakeSetTimeout(handler, delayOf(delay) + lag(), ...args);
    } as typeof globalThis.setTimeout;
    globalThis.clearTimeout = function clearTimeout(handle?: string | number | NodeJS.Timeout) {
      if (handle && typeof handle === 'object' && moments.has(handle)) return realTimers.clearTimeout(handle);
      return fakeClearTimeout(handle);
    } as typeof globalThis.clearTimeout;
    // timers/promises' setTimeout (and util.promisify(setTimeout), which is it) likewise.
    const fakePromised = timerPromises.setTimeout;
    (timerPromises as { setTimeout: typeof fakePromised }).setTimeout = function setTimeout(delay?: number, value?: unknown, options?: object) {
      return delayOf(delay) <= MOMENT_MS ? realTimerPromises.setTimeout(delay, value, options) : fakePromised(delay, value, options);
    } as typeof fakePromised;
    globalThis.setInterval = function setInterval(handler: (...a: unknown[]) => void, delay?: number, ...args: unknown[]) {
      const late = lag();
      if (late === 0) return fakeSetInterval(handler, delay, ...args);
      const entry: { repeating?: ReturnType<typeof setInterval> } = {};
      const first = fakeSetTimeout(() => {
        entry.repeating = fakeSetInterval(handler, delay, ...args);
        handler(...args);
      }, delayOf(delay) + late);
      started.set(Number(first), entry);
      return first;
    } as typeof globalThis.setInterval;
    globalThis.clearInterval = function clearInterval(handle?: string | number | NodeJS.Timeout) {
      const entry = handle === undefined ? undefined : started.get(Number(handle));
      if (!entry) return fakeClearInterval(handle);
      started.delete(Number(handle));
      fakeClearTimeout(handle as ReturnType<typeof setTimeout>);
      if (entry.repeating !== undefined) fakeClearInterval(entry.repeating);
    } as typeof globalThis.clearInterval;
  }

  /**
   * The monotonic clocks (performance.now, process.hrtime, process.uptime, os.uptime) move with the course's
   * moves too, so that a night passed by the check is a night by every clock the app can read, not
   * a jump of the date alone: a worker that has lived a week by the check's clock is a week old.
   */
  function moveMonotonicClocks(moved: () => number): void {
    const ownPerformanceNow = performance.now;
    const realPerformanceNow = ownPerformanceNow.bind(performance);
    performance.now = cloak(function now() {
      return realPerformanceNow() + moved();
    }, ownPerformanceNow);
    const realHrtime = process.hrtime;
    const realBigint = process.hrtime.bigint;
    const NS = 1_000_000_000n;
    const bigint = () => realBigint() + BigInt(Math.round(moved() * 1e6));
    const hrtime = (previous?: [number, number]): [number, number] => {
      let ns = bigint();
      if (previous) ns -= BigInt(previous[0]) * NS + BigInt(previous[1]);
      return [Number(ns / NS), Number(ns % NS)];
    };
    hrtime.bigint = cloak(bigint, realBigint);
    process.hrtime = cloak(hrtime, realHrtime) as typeof realHrtime;
    const realUptime = process.uptime;
    process.uptime = cloak(function uptime() {
      return realUptime() + moved() / 1000;
    }, realUptime);
    // The machine's uptime, in hundredths of a second as Linux gives it.
    const realOsUptime = os.uptime;
    os.uptime = cloak(function uptime() {
      return Math.round((realOsUptime() + moved() / 1000) * 100) / 100;
    }, realOsUptime);
  }

  /**
   * The Date the app sees on the manual clock: the real Date in every way but the present moment,
   * which is `present()` (`new Date()`, `Date.now()`, `Date()`).
   */
  function courseDate(present: () => number): DateConstructor {
    // A function, not a Proxy (util.types.isProxy would tell), standing for Date in every way:
    // its prototype (whose constructor it becomes), its statics, its name, length and source.
    const CourseDate = function Date(this: unknown, ...args: unknown[]) {
      if (!new.target) return new RealDate(present()).toString();
      return Reflect.construct(RealDate, args.length ? args : [present()], new.target === CourseDate ? RealDate : new.target);
    } as unknown as DateConstructor;
    Object.defineProperty(CourseDate, 'prototype', { value: RealDate.prototype, writable: false, enumerable: false, configurable: false });
    Object.defineProperty(RealDate.prototype, 'constructor', { value: CourseDate, writable: true, enumerable: false, configurable: true });
    // An arrow, as Date.now has no prototype either; cloak() gives it Date.now's name and length.
    const courseNow = cloak(() => present(), RealDate.now);
    for (const key of Reflect.ownKeys(RealDate)) {
      if (key === 'prototype' || key === 'name' || key === 'length') continue;
      const descriptor = Object.getOwnPropertyDescriptor(RealDate, key)!;
      Object.defineProperty(CourseDate, key, key === 'now' ? { ...descriptor, value: courseNow } : descriptor);
    }
    return cloak(CourseDate, RealDate);
  }

  /**
   * Move the clock `ms` on. Between the course's moves the date goes on and the timers wait, as on a
   * machine whose event loop is busy; so on the manual clock the timers first catch up with the
   * date (those due by then fire, late, the date going on as it was), then the move is made: a
   * timer set for 03:00 by the date fires when the date reaches 03:00.
   */
  async function advance(running: Clock, ms: number): Promise<void> {
    const step = (by: number) => (databaseIo ? databaseIo.advance(running, by) : running.tickAsync(by).then(() => {}));
    const late = assignment.clock === 'manual' ? Math.max(0, Math.floor((heldAt ?? RealDate.now() + offset) - level)) : 0;
    if (late > 0) {
      catchingFrom = running.now;
      try {
        await step(late);
      } finally {
        offset -= late;
        if (heldAt !== undefined) heldAt -= late;
        caughtUp += late;
        catchingFrom = undefined;
      }
    }
    if (assignment.clock !== 'flowing') return step(ms);
    movingFrom = running.now;
    try {
      await step(ms);
    } finally {
      movingFrom = undefined;
      flowingMoves += ms;
    }
  }

  function answer(message: HostToWorker, send: (message: WorkerToHost) => void, fatal: (error: unknown) => void): boolean {
    if (message.type === 'clock-hold') {
      if (assignment.clock === 'manual' && clock) heldAt = message.hold ? message.at - clock.now : undefined;
      send({ type: 'clock-held', id: message.id, now: Date.now() });
      return true;
    }
    if (message.type === 'clock-advance') {
      const done = () => send({ type: 'clock-advanced', id: message.id, now: Date.now() });
      if (!clock) done();
      else advance(clock, message.ms).then(done, fatal);
      return true;
    }
    if (message.type === 'clock-query') {
      send({ type: 'clock-state', id: message.id, now: Date.now(), timers: clock ? clock.countTimers() : null });
      return true;
    }
    return false;
  }

  return { answer };
}
