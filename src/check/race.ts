// A forced race between two requests on two workers, the same interleaving every run:
//
//   1. hold `first.worker` (its gate in hold mode) and send `first`;
//   2. wait until it has done the data operation `first.holdAfter` picks and is held there (by
//      default: just before its first write that follows a read of shared data, so that all it
//      read is read and nothing it will write is written; or, a lock file taken in two steps,
//      between looking that it is missing and making it); if its request ends without that,
//      there is no race to force: send `second` and return;
//   3. send `second`, and wait until it has answered, or is blocked inside a data operation
//      (entered and not finished for BLOCKED_MS while `first` holds a transaction: waiting for
//      a lock `first` holds), or a write of its failed (a lock file that exists, a busy
//      database: a lock `first` holds, which the app waits for or retries);
//   4. let `first` go on, and wait for both answers.
//
// Both sides on ONE worker (a Node worker serves many requests at once: one awaits while another
// runs), raceOnOneWorker:
//
//   1. hold the worker and send `first`; every operation goes on at once, but the first
//      ASYNCHRONOUS one `first.holdAfter` picks (by default: its first asynchronous operation,
//      any kind): its promise waits for the go, and the worker is free meanwhile;
//   2. send `second`: every operation the worker reports now is second's (first is parked), and
//      goes on at once; wait until second has answered (or a write of its failed: a lock first
//      holds);
//   3. let `first` go on, and wait for both answers.
//
// A synchronous operation cannot be held on a shared worker: the worker would be blocked in it,
// and second could not run. So a synchronous operation always goes on; when `first` ends without
// an asynchronous operation to hold at (an app that never awaits a data operation, any Flask
// worker), nothing can overlap it on that worker and the race falls back to one after the other:
// first, then second, as the worker itself would serve them.
//
// The gate (src/runtime/gate.ts) is always there in every worker, checks and `serve` alike, so an
// app cannot tell a forced race from traffic.
import type { WorkerGate } from '../runtime/gate.ts';
import type { DataOperation } from './lesson.ts';
import { BLOCKED_MS, filesWritten, firstRead, holding, waitsOn, type Holding } from './holding.ts';

export { BLOCKED_MS, firstRead };

export { watchData, type DataWatch } from './data-watch.ts';

/** What race() needs of a host: each worker's gate, and whether it hands a worker many requests at once. */
export interface GateSource {
  gate(worker: number): WorkerGate | undefined;
  readonly options?: { readonly mode?: 'sequential' | 'concurrent' };
}

/** One side of a race: a RaceRunner (lesson.ts), whatever its answer's type. */
export interface RaceSide<R> {
  readonly worker: number;
  send(): Promise<R>;
  readonly holdAfter?: (operation: DataOperation) => boolean;
}

export class RaceError extends Error {}

/** Force the race (on two workers, or on one: see the top); resolves with both answers, `first`'s first. */
export async function race<R>(host: GateSource, first: RaceSide<R>, second: RaceSide<R>): Promise<readonly [R, R]> {
  if (first.worker === second.worker) return raceOnOneWorker(host, first, second);
  const held = host.gate(first.worker);
  const watched = host.gate(second.worker);
  if (!held || !watched) throw new RaceError(`Worker ${held ? second.worker : first.worker} is not running.`);
  // Step 1: hold first, and answer each of its operations: go on, or stay (the picked one).
  const one = holding(held, first, true);
  let other: Holding | undefined;
  let offWatched = () => {};
  try {
    await Promise.all([held.setMode('hold'), watched.setMode('off')]);
    const firstReply = settle(first.send());

    // Step 2: first is held after its picked operation, or its request ended without one.
    const firstOutcome = await Promise.race([one.paused.then(() => 'paused' as const), firstReply.then(() => 'ended' as const), held.closed.then(() => 'ended' as const)]);
    if (firstOutcome === 'ended') {
      await held.setMode('off');
      const answers = [await firstReply, await settle(second.send())] as const;
      return [unwrap(answers[0]), unwrap(answers[1])];
    }

    if (one.at?.checkThenCreate) {
      // first looked that a file was not there and is about to make it (a lock file taken in two
      // steps): second runs until it too is held (inside what the file guards), then first runs
      // to its end, or until it waits for second; then second goes on.
      other = holding(watched, second, false);
      await watched.setMode('hold');
      const secondReply = settle(second.send());
      await Promise.race([other.paused, secondReply, watched.closed, other.waitsFor(one)]);
      await held.setMode('watch');
      await Promise.race([firstReply, held.closed, one.waitsFor(other)]);
      await Promise.all([held.setMode('off'), watched.setMode('off')]);
      const answers = [await firstReply, await secondReply] as const;
      return [unwrap(answers[0]), unwrap(answers[1])];
    }

    // Step 3: second runs to its end, or until it waits for a lock first holds (the app will
    // wait or retry until first lets go, so first goes on now).
    let blocked: () => void = () => {};
    const isBlocked = new Promise<void>((resolve) => (blocked = resolve));
    offWatched = waitsOn(watched, one.wrote, () => blocked(), () => one.at?.inTransaction ?? false);
    await watched.setMode('watch');
    const secondReply = settle(second.send());
    await Promise.race([secondReply, isBlocked, watched.closed]);
    offWatched();

    // Step 4: first goes on.
    await held.setMode('off');
    const answers = [await firstReply, await secondReply] as const;
    return [unwrap(answers[0]), unwrap(answers[1])];
  } finally {
    one.stop();
    other?.stop();
    offWatched();
    await Promise.all([held.setMode('off'), watched.setMode('off')]);
  }
}

/** Both sides on one worker: first parked in an asynchronous operation while second runs (see the top). */
async function raceOnOneWorker<R>(host: GateSource, first: RaceSide<R>, second: RaceSide<R>): Promise<readonly [R, R]> {
  const gate = host.gate(first.worker);
  if (!gate) throw new RaceError(`Worker ${first.worker} is not running.`);
  // A host that hands each worker one request at a time would queue second behind the parked first.
  if (host.options?.mode !== 'concurrent') throw new RaceError('A race on one worker needs a host that hands it many requests at once (the lesson\'s mode: concurrent).');
  const pick = first.holdAfter ?? (() => true);
  let parked = false;
  let onParked: () => void = () => {};
  const isParked = new Promise<void>((resolve) => (onParked = resolve));
  let blocked: () => void = () => {};
  const isBlocked = new Promise<void>((resolve) => (blocked = resolve));
  const wrote = filesWritten();
  const off = gate.on((report) => {
    const op = report.op as DataOperation;
    if (!parked) wrote.note(report);
    if (!report.ask) return;
    if (report.t === 'entered') return gate.go(report.seq, true);
    if (!parked && report.async && pick(op)) {
      parked = true;
      onParked();
      return;
    }
    gate.go(report.seq);
  });
  // Once first is parked, every operation the worker reports is second's: it may wait for first.
  let offWaits = () => {};
  void isParked.then(() => (offWaits = waitsOn(gate, wrote, () => blocked())));
  try {
    await gate.setMode('hold');
    const firstReply = settle(first.send());
    const firstOutcome = await Promise.race([isParked.then(() => 'parked' as const), firstReply.then(() => 'ended' as const), gate.closed.then(() => 'ended' as const)]);
    if (firstOutcome === 'ended') {
      // Nothing asynchronous to hold first at: nothing overlaps it on this worker.
      await gate.setMode('off');
      const answers = [await firstReply, await settle(second.send())] as const;
      return [unwrap(answers[0]), unwrap(answers[1])];
    }
    const secondReply = settle(second.send());
    await Promise.race([secondReply, isBlocked, gate.closed]);
    await gate.setMode('off');
    const answers = [await firstReply, await secondReply] as const;
    return [unwrap(answers[0]), unwrap(answers[1])];
  } finally {
    off();
    offWaits();
    await gate.setMode('off');
  }
}

type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

function settle<R>(promise: Promise<R>): Promise<Settled<R>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

function unwrap<R>(settled: Settled<R>): R {
  if (settled.ok) return settled.value;
  throw settled.error;
}
