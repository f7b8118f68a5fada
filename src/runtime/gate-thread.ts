// The worker's gate thread: a worker_threads thread with an event loop of its own, so that what
// it does never waits on the app's code (which may block the main thread, or spin forever).
//
// - It owns the worker's control channel to the course (fd CONTROL_FD): it relays the main
//   thread's data-operation reports to the course, and the course's commands (gate mode, "go on")
//   to the main thread through shared memory, waking it when it is held.
// - It is the worker's watchdog: when the channel closes (the course is gone, however it ended,
//   SIGKILL included) or the process's parent changes, it ends the whole process with SIGKILL.
//   A `while (true) {}` in the app cannot keep the worker alive past the course.
//
// The thread runs the source of `gateThread` as a script (Worker's `eval`): no module to resolve
// or strip of types, which halves what the thread costs each worker start. So the function uses
// nothing from this module's scope: its constants come in `workerData`.
import { Worker } from 'node:worker_threads';
import { CONTROL_FD, SLOT, type GateCommand, type GateReport } from './gate-protocol.ts';

interface ThreadData {
  readonly shared: SharedArrayBuffer;
  readonly fd: number;
  readonly slot: typeof SLOT;
}

/** Start the gate thread for the worker's shared slots. */
export function startGateThread(flags: Int32Array): Worker {
  const workerData: ThreadData = { shared: flags.buffer as SharedArrayBuffer, fd: CONTROL_FD, slot: SLOT };
  const thread = new Worker(`(${gateThread.toString()})()`, { eval: true, workerData, env: {}, stdout: false, stderr: false });
  thread.on('error', () => {});
  thread.unref();
  return thread;
}

/** The thread's whole program (see above: self-contained, run from its source). */
function gateThread(): void {
  const net = require('node:net') as typeof import('node:net');
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const { shared, fd, slot } = workerData as ThreadData;
  const flags = new Int32Array(shared);
  const parentAtStart = process.ppid;

  const orphaned = () => {
    process.kill(process.pid, 'SIGKILL');
  };
  const channel = new net.Socket({ fd, readable: true, writable: true });
  channel.on('end', orphaned);
  channel.on('close', orphaned);
  channel.on('error', orphaned);
  // A second, independent sign of a dead parent (the channel could be held open by a stray copy).
  setInterval(() => {
    if (process.ppid !== parentAtStart) orphaned();
  }, 500);

  const ring = () => {
    Atomics.add(flags, slot.BELL, 1);
    Atomics.notify(flags, slot.BELL);
  };
  const send = (report: GateReport) => {
    channel.write(`${JSON.stringify(report)}\n`);
  };
  const command = (message: GateCommand) => {
    if (message.t === 'mode') {
      Atomics.store(flags, slot.MODE, message.mode);
      ring();
      send({ t: 'mode-set', id: message.id, mode: message.mode });
    } else if (message.t === 'go') {
      if (message.seq > Atomics.load(flags, slot.GO)) Atomics.store(flags, slot.GO, message.seq);
      ring();
    }
  };

  let partial = '';
  channel.setEncoding('utf8');
  channel.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line) continue;
      try {
        command(JSON.parse(line) as GateCommand);
      } catch {
        /* not a command */
      }
    }
  });
  parentPort?.on('message', (report: GateReport) => send(report));
}
