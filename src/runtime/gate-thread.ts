// The worker's gate thread: a worker_threads thread with an event loop of its own, so that what
// it does never waits on the app's code (which may block the main thread, or spin forever).
//
// - It owns the worker's control channel to the course (CONTROL_FD): it relays the main thread's
//   data-operation reports to the course, and the course's commands (gate mode, "go on") to the
//   main thread through shared memory, waking it when it is held.
// - It is the worker's watchdog: when the channel closes (the course is gone, however it ended,
//   SIGKILL included) or the process's parent changes, it ends the whole process with SIGKILL.
//   A `while (true) {}` in the app cannot keep the worker alive past the course.
//
// Self-contained (node built-ins only): it starts with every worker.
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { SLOT, type GateCommand, type GateReport } from './gate-protocol.ts';

const { shared, fd } = workerData as { shared: SharedArrayBuffer; fd: number };
const flags = new Int32Array(shared);
const parentAtStart = process.ppid;

function orphaned(): never {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL cannot be caught; this line is never reached.
  throw new Error('unreachable');
}

const channel = new net.Socket({ fd, readable: true, writable: true });
channel.on('end', orphaned);
channel.on('close', orphaned);
channel.on('error', orphaned);
// A second, independent sign of a dead parent (the channel could be held open by a stray copy).
setInterval(() => {
  if (process.ppid !== parentAtStart) orphaned();
}, 500);

function ring(): void {
  Atomics.add(flags, SLOT.BELL, 1);
  Atomics.notify(flags, SLOT.BELL);
}

function command(message: GateCommand): void {
  if (message.t === 'mode') {
    Atomics.store(flags, SLOT.MODE, message.mode);
    ring();
    send({ t: 'mode-set', id: message.id, mode: message.mode });
  } else if (message.t === 'go') {
    if (message.seq > Atomics.load(flags, SLOT.GO)) Atomics.store(flags, SLOT.GO, message.seq);
    ring();
  }
}

function send(report: GateReport): void {
  channel.write(`${JSON.stringify(report)}\n`);
}

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
