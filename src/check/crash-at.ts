// A worker killed at a moment of the check's choosing, as a real host may kill one at any moment
// (an out-of-memory kill, a lost machine, gunicorn's --timeout): its gate in hold mode, every data
// operation goes on until the chosen one, before which the worker is killed (SIGKILL, then a fresh
// worker in its place, as Host.crash does). What it committed stays; what it had not is gone.
import type { WorkerGate } from '../runtime/gate.ts';
import type { DataOperation } from './lesson.ts';

/** What crashAt() needs of a host. */
export interface CrashSource {
  gate(worker: number): WorkerGate | undefined;
  crash(worker: number): Promise<void>;
}

/** A kill armed on one worker: see crashAt(). */
export interface CrashPoint {
  /** Whether the worker has been killed (at the picked operation). */
  readonly killed: boolean;
  /** Resolves once the worker is killed and its successor serves. */
  readonly restarted: Promise<void>;
  /** Disarm (if it has not fired): the worker's operations go on unwatched. */
  disarm(): Promise<void>;
}

/** Statements that only open or close a transaction: they write no data of their own. */
const TRANSACTION_CONTROL = /^\s*(?:begin|commit|end|rollback|savepoint|release)\b/i;
const BEGIN = /^\s*begin\b/i;
const ROLLBACK = /^\s*rollback\b(?!\s+(?:transaction\s+)?to\b)/i;

/**
 * Arm a kill on `worker` between two commits: once a write of its has committed (a statement
 * outside a transaction, or a transaction that wrote and then ended), the worker is killed just
 * before its next write that begins a commit of its own: a write outside a transaction, or the
 * first write of a transaction begun since (its BEGIN, a deferred one, writes nothing yet). What
 * the first commit wrote stays and what the second would have written never comes. Arm it before
 * sending the request; disarm it once the moment has passed. (A worker whose writes are all in
 * one transaction is never killed before they commit.) With `after: k`, the kill waits for the
 * k-th commit and lands before the next one: a check that tries k = 1, 2, 3... on one purchase
 * after another finds every gap between its commits.
 *
 * A transaction's end is not always reported (Python's `with db:` commits inside the sqlite3
 * module): one that wrote has ended once a BEGIN comes, or a statement runs outside a transaction.
 */
export async function killBetweenCommits(host: CrashSource, worker: number, options: { readonly after?: number } = {}): Promise<CrashPoint> {
  const after = Math.max(1, Math.floor(options.after ?? 1));
  const gate = host.gate(worker);
  if (!gate) throw new Error(`Worker ${worker} is not running.`);
  let killed = false;
  // How many commits of the worker's writes there have been; the transaction now open (if any) has written.
  let commits = 0;
  let open = false;
  let onRestarted: () => void = () => {};
  let onFailed: (error: unknown) => void = () => {};
  const restarted = new Promise<void>((resolve, reject) => {
    onRestarted = resolve;
    onFailed = reject;
  });
  const isWrite = (op: DataOperation) => op.kind === 'sql' && op.write && !TRANSACTION_CONTROL.test(op.sql);
  /** The transaction that wrote has ended (committed, as far as the reports tell). */
  const ended = () => {
    if (open) {
      open = false;
      commits++;
    }
  };
  const off = gate.on((report) => {
    const op = report.op as DataOperation;
    if (op.kind === 'sql') {
      // A transaction begins: the one before it, if any, has ended.
      if (BEGIN.test(op.sql)) ended();
      if (report.t === 'finished') {
        if (!report.failed && isWrite(op)) {
          if (report.inTransaction) open = true;
          else commits++;
        }
        // Outside a transaction now: the one that wrote has ended, committed unless rolled back.
        if (!report.inTransaction) {
          if (ROLLBACK.test(op.sql)) open = false;
          else ended();
        }
      } else if (report.ask && report.inTransaction === false) ended();
    }
    if (!report.ask) return;
    if (report.t === 'finished') return gate.go(report.seq);
    if (!killed && commits >= after && isWrite(op) && !(report.inTransaction && open)) {
      killed = true;
      off();
      host.crash(worker).then(onRestarted, onFailed);
      return;
    }
    gate.go(report.seq, true);
  });
  await gate.setMode('hold');
  return {
    get killed() {
      return killed;
    },
    restarted,
    async disarm() {
      off();
      if (!killed) await gate.setMode('off');
    },
  };
}
