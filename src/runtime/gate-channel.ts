// The worker's end of its gate (see gate-protocol.ts), on the worker's main thread: the course's
// commands (the gate's mode, "go on") and the worker's reports travel on the control channel,
// file descriptor CONTROL_FD.
//
// - Reports are written synchronously, so the course has one before the worker goes on (or is
//   held): a held worker's "finished" must not wait in a buffer for an event loop that is blocked.
// - Commands are read in the event loop while the worker is free; while it is held, the worker
//   reads them itself, synchronously, until the course lets it go. Holding is synchronous because
//   the app's code between two operations is.
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
}

// fs.writeSync and readSync as they were before the app (and the data-operation wrappers) could touch fs.
const { writeSync, readSync } = fs;

export function openGate(fd = CONTROL_FD): Gate {
  let mode: GateMode = 0;
  let go = 0;
  let goBefore = 0;
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
      report({ t: 'mode-set', id: message.id, mode: message.mode });
    } else if (message.t === 'go') {
      if (message.before) goBefore = Math.max(goBefore, message.seq);
      else go = Math.max(go, message.seq);
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

  return {
    mode: () => mode,
    report,
    holdAfter(seq) {
      while (go < seq && mode === 2 && !gone) readNow();
    },
    holdBefore(seq) {
      while (goBefore < seq && mode === 2 && !gone) readNow();
    },
  };
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Block the thread for `ms` (nothing wakes it early). */
function pause(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
