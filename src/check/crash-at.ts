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

/**
 * Arm a kill on `worker` between two commits: once a write of its has committed (a statement
 * outside a transaction, or a transaction that ended), the worker is killed just before the next
 * write that begins outside a transaction, so that what the first committed stays and what the
 * second would have written never comes. Arm it before sending the request; disarm it once the
 * moment has passed. (A worker whose writes are all in one transaction is never killed.)
 */
export async function killBetweenCommits(host: CrashSource, worker: number): Promise<CrashPoint> {
  const gate = host.gate(worker);
  if (!gate) throw new Error(`Worker ${worker} is not running.`);
  let killed = false;
  let wrote = false;
  let onRestarted: () => void = () => {};
  let onFailed: (error: unknown) => void = () => {};
  const restarted = new Promise<void>((resolve, reject) => {
    onRestarted = resolve;
    onFailed = reject;
  });
  const isWrite = (op: DataOperation) => op.kind === 'sql' && op.write;
  const off = gate.on((report) => {
    const op = report.op as DataOperation;
    if (report.t === 'finished' && !report.failed && isWrite(op)) wrote = true;
    if (!report.ask) return;
    if (report.t === 'finished') return gate.go(report.seq);
    if (!killed && wrote && isWrite(op) && !report.inTransaction) {
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
