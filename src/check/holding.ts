// One side of a forced race held on its worker (race.ts): which of its operations go on, where it
// stops, the files it wrote, and whether, running, it waits for the other side's lock.
import type { GateListener, ProbeListener, WorkerGate } from '../runtime/gate.ts';
import type { DataOperation } from './lesson.ts';
import type { RaceSide } from './race.ts';

const TRANSACTION_CONTROL = /^\s*(?:begin|commit|end|rollback|savepoint|release)\b/i;

/** The default hold point: the first read of shared data (a query or a file read, not BEGIN or COMMIT). */
export function firstRead(operation: DataOperation): boolean {
  if (operation.write) return false;
  return operation.kind === 'file' || !TRANSACTION_CONTROL.test(operation.sql);
}

/** Where a held side stopped: the operation's number, and whether it is a file made after a look that it was not there. */
export interface HoldPoint {
  readonly seq: number;
  readonly inTransaction: boolean;
  readonly checkThenCreate: boolean;
}

/** One side of a race held on its worker (its gate in hold mode): what it did, and where it stopped. */
export interface Holding {
  /** Resolves once the side is held at its hold point. */
  readonly paused: Promise<void>;
  readonly at: HoldPoint | undefined;
  readonly wrote: ReturnType<typeof filesWritten>;
  /**
   * Resolves once this side, running, waits for `other` (held): a write of its failed (a lock
   * `other` holds), or it keeps finding a file `other` wrote (its lock file).
   */
  waitsFor(other: Holding): Promise<void>;
  stop(): void;
}

/**
 * Answer `side`'s operations on `gate` (in hold mode): go on, or stay at the hold point. By
 * default, the worker is held just before its first write that follows a read (everything it
 * read is read, nothing it will write is written); a side may pick the operation to hold after
 * instead. With `checkThenCreate`, the worker is also held before making a file it has just
 * looked was not there (before it has read anything): the second step of a lock file taken in two.
 */
export function holding<R>(gate: WorkerGate, side: RaceSide<R>, checkThenCreate: boolean): Holding {
  const beforeWrite = side.holdAfter === undefined;
  const pick = side.holdAfter ?? firstRead;
  let hasRead = false;
  let at: HoldPoint | undefined;
  let onPaused: () => void = () => {};
  const paused = new Promise<void>((resolve) => (onPaused = resolve));
  const pause = (point: HoldPoint) => {
    at = point;
    onPaused();
  };
  const wrote = filesWritten();
  const absent = new Set<string>();
  const watches: Array<() => void> = [];
  // Whether the side's last SQL statement left its connection inside a transaction: a file
  // written between BEGIN IMMEDIATE and COMMIT is written under the database's lock (a file
  // operation itself knows of no transaction).
  let sqlOpen = false;
  const offReports = gate.on((report) => {
    wrote.note(report);
    const op = report.op as DataOperation;
    if (report.t === 'finished' && op.kind === 'sql' && !report.failed) sqlOpen = report.inTransaction;
    if (!report.ask) return;
    if (report.t === 'entered') {
      const created = checkThenCreate && !hasRead && op.kind === 'file' && absent.has(op.file);
      const inTransaction = (report.inTransaction ?? false) || (op.kind === 'file' && sqlOpen);
      if (!at && beforeWrite && (hasRead || created)) pause({ seq: report.seq, inTransaction, checkThenCreate: created });
      else gate.go(report.seq, true);
      return;
    }
    if (beforeWrite) {
      if (!report.failed && firstRead(op)) hasRead = true;
      gate.go(report.seq);
    } else if (!at && pick(op)) pause({ seq: report.seq, inTransaction: report.inTransaction || (op.kind === 'file' && sqlOpen), checkThenCreate: false });
    else gate.go(report.seq);
  });
  const offProbes = gate.onProbe((probe) => {
    if (!probe.found && !at) absent.add(probe.file);
  });
  return {
    paused,
    get at() {
      return at;
    },
    wrote,
    waitsFor(other) {
      return new Promise<void>((resolve) => watches.push(waitsOn(gate, other.wrote, resolve)));
    },
    stop() {
      offReports();
      offProbes();
      for (const off of watches.splice(0)) off();
    },
  };
}

/** Looks at one file, again and again, that tell a request waits for it to go (a lock file polled). */
const POLLS_WHILE_WAITING = 2;
/** How long an operation must stay unfinished, while the other side holds a lock, to count as waiting for it. */
export const BLOCKED_MS = 100;

/**
 * Call `blocked` once the requests on `gate` wait for the other side of a race, which wrote
 * `theirs` (and holds a transaction, when `inTransaction` says so): a write of theirs fails (a
 * lock file that is there, a busy database); an operation stays unfinished for BLOCKED_MS while
 * the other holds a transaction, or while it writes a file the other wrote (an flock on its lock
 * file); or they find a file the other wrote, by looking or reading, POLLS_WHILE_WAITING times (a
 * lock file polled). Returns what stops the watch.
 */
export function waitsOn(gate: WorkerGate, theirs: ReturnType<typeof filesWritten>, blocked: () => void, inTransaction: () => boolean = () => false): () => void {
  const open = new Map<number, NodeJS.Timeout>();
  const lookedAgain = theirs.waitedFor(blocked);
  const offReports = gate.on((report) => {
    const op = report.op as DataOperation;
    if (report.t === 'entered') {
      if (inTransaction() || (op.kind === 'file' && op.write && theirs.has(op.file))) open.set(report.seq, setTimeout(blocked, BLOCKED_MS));
      return;
    }
    clearTimeout(open.get(report.seq));
    open.delete(report.seq);
    if (report.failed && (op.kind === 'sql' || op.write)) blocked();
    // Reading a file (the owner in a lock file) is a look at it too.
    if (!report.failed && op.kind === 'file' && !op.write) lookedAgain({ t: 'probed', file: op.file, found: true });
  });
  const offProbes = gate.onProbe(lookedAgain);
  return () => {
    offReports();
    offProbes();
    for (const timer of open.values()) clearTimeout(timer);
  };
}

/**
 * The files `first` wrote during a race (a lock file it made, among others), and a probe listener
 * for `second` that calls `blocked` once `second` has found one of them there
 * POLLS_WHILE_WAITING times: it is waiting for `first` to let go of it.
 */
export function filesWritten() {
  const files = new Set<string>();
  return {
    has: (file: string) => files.has(file),
    note(report: Parameters<GateListener>[0]): void {
      const op = report.op as DataOperation;
      if (report.t === 'finished' && !report.failed && op.kind === 'file' && op.write) files.add(op.file);
    },
    waitedFor(blocked: () => void): ProbeListener {
      const looks = new Map<string, number>();
      return (probe) => {
        if (!probe.found || !files.has(probe.file)) return;
        const count = (looks.get(probe.file) ?? 0) + 1;
        looks.set(probe.file, count);
        if (count >= POLLS_WHILE_WAITING) blocked();
      };
    },
  };
}
