// Questions the host asks its worker processes over IPC, each answered by a message of its own.
import type { WorkerProcess } from './processes.ts';
import type { HostToWorker, WorkerToHost } from './protocol.ts';
import type { ClockState } from './host-types.ts';

let lastId = 0;

/** A fresh id for a question, so that its answer is told from others. */
function questionId(): number {
  return ++lastId;
}

/** Send a message and wait for the answer `match` picks; undefined if the process exits first. */
export function ask(proc: WorkerProcess, message: HostToWorker, match: (m: WorkerToHost) => boolean): Promise<WorkerToHost | undefined> {
  return new Promise((resolve) => {
    const off = proc.onMessage((answer) => {
      if (match(answer)) {
        off();
        resolve(answer);
      }
    });
    void proc.exited.then(() => {
      off();
      resolve(undefined);
    });
    proc.send(message);
  });
}

/** A round trip over the process's IPC channel, or `limitMs`, whichever comes first. */
export async function ping(proc: WorkerProcess, limitMs: number): Promise<void> {
  const id = questionId();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, limitMs);
  });
  await Promise.race([ask(proc, { type: 'ping', id }, (m) => m.type === 'pong' && m.id === id), limit]);
  clearTimeout(timer);
}

/** Move the process's manual clock forward, once it has started; resolves when the timers due have run. */
export async function advanceClock(proc: WorkerProcess, ms: number): Promise<void> {
  await proc.ready.catch(() => {});
  const id = questionId();
  await ask(proc, { type: 'clock-advance', id, ms }, (m) => m.type === 'clock-advanced' && m.id === id);
}

/** The process's time and the timers waiting on its manual clock; undefined if it exits first. */
export async function clockState(proc: WorkerProcess): Promise<ClockState | undefined> {
  await proc.ready.catch(() => {});
  const id = questionId();
  const answer = await ask(proc, { type: 'clock-query', id }, (m) => m.type === 'clock-state' && m.id === id);
  return answer?.type === 'clock-state' ? { now: answer.now, timers: answer.timers } : undefined;
}

/** Tell the process that the next `count` requests come in together; resolves once it knows. */
export async function arriveTogether(proc: WorkerProcess, count: number): Promise<void> {
  await proc.ready.catch(() => {});
  const id = questionId();
  await ask(proc, { type: 'arrive-together', id, count }, (m) => m.type === 'arriving' && m.id === id);
}

/**
 * Hold the process's date still at `at` (hold), or let it go on with real time again, once it
 * has started. Its timers are untouched.
 */
export async function holdClock(proc: WorkerProcess, hold: boolean, at: number): Promise<void> {
  await proc.ready.catch(() => {});
  const id = questionId();
  await ask(proc, { type: 'clock-hold', id, hold, at }, (m) => m.type === 'clock-held' && m.id === id);
}
