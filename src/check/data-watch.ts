// Watching one worker's data operations outside a race: whether it waits for a lock right now.
import type { DataOperation } from './lesson.ts';
import type { GateSource } from './race.ts';

/** What a check sees of one worker's data operations while it watches them. */
export interface DataWatch {
  /**
   * True while the worker is inside an operation that waits for the database's write lock (a
   * write, or BEGIN IMMEDIATE/EXCLUSIVE) and has not come out: it is blocked on a lock.
   */
  waitingToWrite(): boolean;
  /** Stop watching. */
  stop(): Promise<void>;
}

/** Watch worker k's data operations (not together with race() on the same worker). */
export async function watchData(host: GateSource, worker: number): Promise<DataWatch> {
  const gate = host.gate(worker);
  if (!gate) return { waitingToWrite: () => false, stop: async () => {} };
  const open = new Set<number>();
  const off = gate.on((report) => {
    if (report.t === 'entered') {
      const op = report.op as DataOperation;
      if (op.kind === 'sql' && (op.write || /^\s*begin\s+(immediate|exclusive)\b/i.test(op.sql))) open.add(report.seq);
    } else open.delete(report.seq);
  });
  await gate.setMode('watch');
  return {
    waitingToWrite: () => open.size > 0,
    stop: async () => {
      off();
      await gate.setMode('off');
    },
  };
}
