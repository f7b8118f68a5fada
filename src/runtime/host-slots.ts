// A host's worker slots: the place of worker k behind the dispatcher, the process serving it
// now, and how a slot's process is retired or stopped.
import { http } from './node-http.ts';
import type { Slot } from './dispatcher.ts';
import type { EventStream, HostEvent, WorkerState } from './events.ts';
import { AppStartError, type WorkerProcess } from './processes.ts';
import type { AppProblem } from './protocol.ts';

export interface WorkerSlot extends Slot {
  process?: WorkerProcess;
  ready?: Promise<number>;
  state: WorkerState;
  restarts: number;
  retired: boolean;
  /** Called once a retired worker has answered its last request (a rolling reload waits for it). */
  drained?: () => void;
}

/** An empty slot for worker `index`, before its process starts. */
export function newSlot(index: number): WorkerSlot {
  const slot: WorkerSlot = {
    index,
    inFlight: 0,
    served: 0,
    waiting: [],
    agent: new http.Agent({ keepAlive: true }),
    state: 'starting',
    restarts: 0,
    retired: false,
    port: () => slot.ready ?? Promise.reject(new Error('not started')),
  };
  return slot;
}

/** What starting a slot's process needs from its host. */
export interface SlotHost {
  readonly events: EventStream<HostEvent>;
  /** Start the process (the host's generation, the slot's machine and instance variables). */
  spawn(): WorkerProcess;
  /** Record a problem the process reported (a crash, an error on start). */
  problem(problem: AppProblem): void;
  /** Whether a worker that crashed after it served is started again now (as a host's master process does). */
  restartsCrashed(): boolean;
}

/**
 * Start a process in `slot` and follow it: its state and events, a crash (started again when
 * the host says so). Resolves with its port once it serves; rejects with an AppStartError.
 */
export function startSlot(slot: WorkerSlot, host: SlotHost): Promise<number> {
  const { events } = host;
  const proc = host.spawn();
  slot.process = proc;
  slot.state = 'starting';
  slot.ready = proc.ready;
  let served = false;
  events.emit({ type: 'worker-starting', worker: slot.index, pid: proc.pid });
  proc.ready.then(
    (port) => {
      served = true;
      if (slot.process !== proc) return;
      slot.state = slot.inFlight > 0 ? 'busy' : 'idle';
      events.emit({ type: 'worker-ready', worker: slot.index, pid: proc.pid, port });
    },
    () => {},
  );
  void proc.exited.then((info) => {
    if (!info.expected && info.problem) {
      host.problem(info.problem);
      events.emit({ type: 'worker-crashed', worker: slot.index, pid: proc.pid, problem: info.problem });
    }
    events.emit({ type: 'worker-exited', worker: slot.index, pid: proc.pid, code: info.code, signal: info.signal, expected: info.expected });
    if (slot.process !== proc || slot.retired) return;
    slot.state = info.expected ? 'stopped' : 'crashed';
    if (!info.expected && served && host.restartsCrashed()) {
      slot.restarts++;
      void startSlot(slot, host).catch(() => {});
    }
  });
  return proc.ready.catch((error: unknown) => {
    throw error instanceof AppStartError ? error : new AppStartError({ kind: 'exit', message: String(error) });
  });
}

/**
 * Kill slot's process at once and start a fresh one in its place (`relaunch`), unless the host
 * restarted it already. The kill is the course's doing: the problem its exit reported is taken
 * back out of `problems`. Resolves once the new worker serves.
 */
export async function crashSlot(slot: WorkerSlot, problems: AppProblem[], relaunch: () => Promise<number>): Promise<void> {
  const proc = slot.process!;
  proc.kill();
  const { problem } = await proc.exited;
  const recorded = problem ? problems.indexOf(problem) : -1;
  if (recorded >= 0) problems.splice(recorded, 1);
  await (slot.process === proc ? relaunch() : slot.ready);
}

/** Stop a worker that no longer gets requests once those it has are answered (within `limitMs`). */
export async function retire(slot: WorkerSlot, limitMs: number): Promise<void> {
  slot.retired = true;
  // Requests waiting for it go to its successor (the dispatcher moves them).
  for (const wake of slot.waiting.splice(0)) wake();
  if (slot.inFlight > 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        slot.drained = resolve;
      }),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, limitMs);
      }),
    ]);
    clearTimeout(timer);
  }
  await stopSlots([slot]);
}

/** Wait for every promise; reject with the first failure once all have settled. */
export async function settleAll(work: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export async function stopSlots(slots: readonly WorkerSlot[]): Promise<void> {
  await Promise.all(
    slots.map(async (slot) => {
      slot.retired = true;
      slot.agent.destroy();
      for (const wake of slot.waiting.splice(0)) wake();
      if (slot.process) await slot.process.stop();
      slot.state = 'stopped';
    }),
  );
}
