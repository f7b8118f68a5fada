// The worker's end of its gate (see gate-protocol.ts), on the worker's main thread: the course's
// commands (the gate's mode, "go on") and the worker's reports travel on the control channel,
// file descriptor CONTROL_FD.
//
// - Reports are written synchronously, so the course has one before the worker goes on (or is
//   held): a held worker's "finished" must not wait in a buffer for an event loop that is blocked.
// - Commands are read in the event loop while the worker is free; while it is held, the worker
//   reads them itself, synchronously, until the course lets it go. A synchronous operation is
//   held synchronously (the app's code between two operations is); an asynchronous one is held
//   by a promise that settles when its go arrives through the event loop, so the worker serves
//   other requests meanwhile (as a real Node worker does while a request awaits).
// - Each held operation is let go by its own number: while one asynchronous operation waits,
//   others (of other requests) are held and let go on their own. Leaving hold mode lets all go.
// - When the channel ends (the course is gone, and the worker was free to notice), the worker
//   ends at once. A worker that never yields is ended by the course's reaper (processes/reaper.ts).
import fs from 'node:fs';
import net from 'node:net';
import { CONTROL_FD, jsonLines, type GateCommand, type GateMode, type GateReport } from './gate-protocol.ts';

/** What the data-operation wrappers need of the gate. */
export interface Gate {
  /** The gate's mode now (0 off, 1 watch, 2 hold). */
  mode(): GateMode;
  report(message: GateReport): void;
  /** In hold mode: return once the course lets operation `seq` go on (or the gate leaves hold mode). */
  holdAfter(seq: number): void;
  /** In hold mode: return once the course lets operation `seq` begin (or the gate leaves hold mode). */
  holdBefore(seq: number): void;
  /** holdAfter without blocking the thread: settles once the go arrives through the event loop. */
  waitAfter(seq: number): Promise<void>;
  /** holdBefore without blocking the thread. */
  waitBefore(seq: number): Promise<void>;
}

// fs.writeSync and readSync as they were before the app (and the data-operation wrappers) could touch fs.
const { writeSync, readSync } = fs;

export function openGate(fd = CONTROL_FD): Gate {
  let mode: GateMode = 0;
  /** The operations the course let go on (after them), and begin (before them), not yet taken by their hold. */
  const goAfter = new Set<number>();
  const goBefore = new Set<number>();
  /** Asynchronous holds waiting: each checks whether its go has come. */
  const waiting = new Set<() => void>();
  const wake = () => {
    for (const check of [...waiting]) check();
  };
  let gone = false;
  const orphaned = () => {
    if (gone) return;
    gone = true;
    process.kill(process.pid, 'SIGKILL');
  };

  const write = (text: string) => {
    let bytes = Buffer.from(text);
    while (bytes.length > 0 && !gone) {
      try {
        bytes = bytes.subarray(writeSync(fd, bytes));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') pause(1);
        else orphaned();
      }
    }
  };
  const report = (message: GateReport) => write(`${JSON.stringify(message)}\n`);

  const command = (message: GateCommand) => {
    if (message.t === 'mode') {
      mode = message.mode;
      if (mode !== 2) {
        goAfter.clear();
        goBefore.clear();
      }
      wake();
      report({ t: 'mode-set', id: message.id, mode: message.mode });
    } else if (message.t === 'go') {
      (message.before ? goBefore : goAfter).add(message.seq);
      wake();
    }
  };
  const take = jsonLines(command);

  // The channel in the event loop: it never keeps the worker alive by itself.
  const channel = new net.Socket({ fd, readable: true, writable: true });
  channel.setEncoding('utf8');
  channel.on('data', take);
  channel.on('end', orphaned);
  channel.on('close', orphaned);
  channel.on('error', orphaned);
  channel.unref();

  // Read the channel now, without the event loop (commands are ASCII: bytes are characters).
  const buffer = Buffer.alloc(4096);
  const readNow = () => {
    try {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) orphaned();
      else take(buffer.toString('latin1', 0, n));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') pause(1);
      else orphaned();
    }
  };

  const hold = (released: Set<number>, seq: number) => {
    while (!released.has(seq) && mode === 2 && !gone) readNow();
    released.delete(seq);
  };
  const wait = (released: Set<number>, seq: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!released.has(seq) && mode === 2 && !gone) return;
        released.delete(seq);
        waiting.delete(check);
        resolve();
      };
      waiting.add(check);
      check();
    });

  return {
    mode: () => mode,
    report,
    holdAfter: (seq) => hold(goAfter, seq),
    holdBefore: (seq) => hold(goBefore, seq),
    waitAfter: (seq) => wait(goAfter, seq),
    waitBefore: (seq) => wait(goBefore, seq),
  };
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Block the thread for `ms` (nothing wakes it early). */
function pause(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
