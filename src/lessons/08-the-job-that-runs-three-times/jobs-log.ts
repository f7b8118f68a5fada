// The team's jobs log: one row per run of a job, in SQLite on the disk of the machine that ran
// it (SHOP_DB). The check reads every machine's file.
import Database from 'better-sqlite3';
import { fail } from '../../check/expect.ts';
import type { CheckContext } from '../types.ts';
import type { Sent } from './shared-database.ts';

/** The rows of the night `date` in the jobs log, over every machine's own file: who noted a run. */
function loggedBy(ctx: CheckContext, date: string, machines: number): string[] {
  const pids: string[] = [];
  for (let machine = 1; machine <= machines; machine++) {
    const file = ctx.machineEnv(machine).SHOP_DB;
    if (!file) continue;
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT ran_by AS pid FROM jobs_log WHERE period = ?').all(date) as Array<{ pid: unknown }>;
      pids.push(...rows.map((row) => String(row.pid)));
    } finally {
      db.close();
    }
  }
  return pids;
}

/**
 * The night's run must be noted in the jobs log, on the disk of the machine that ran it, and
 * only by the processes that ran it: a row from a process that sent no email that night (one
 * that lost the claim and skipped the run) tells the team of a run that did not happen.
 */
export function expectLogged(ctx: CheckContext, date: string, sent: readonly Sent[], machines = 1): void {
  const pids = loggedBy(ctx, date, machines);
  if (pids.length === 0) {
    fail({
      expected: `a row for the night of ${date} in the jobs log (jobs_log in SHOP_DB)${machines > 1 ? ' of one of the machines' : ''}`,
      got: 'none',
      diagnosis:
        "The emails went out once, but the team's jobs log has no row for that night: the run that sends the emails must still note itself in jobs_log, in SHOP_DB of the machine that ran it, as the starter's job did.",
    });
  }
  const senders = new Set(sent.map((s) => String(s.sentBy)));
  const idle = pids.filter((pid) => !senders.has(pid));
  const twice = pids.filter((pid, i) => pids.indexOf(pid) !== i);
  if (idle.length === 0 && twice.length === 0) return;
  fail({
    expected: `the night of ${date} in the jobs log once for each process that ran the job (pid ${[...senders].join(', ')})`,
    got: `${pids.length} rows (ran_by ${pids.join(', ')})`,
    diagnosis:
      idle.length > 0
        ? `The emails went out once, but the jobs log says the job ran in ${pids.length} processes: ${idle.length === 1 ? 'process' : 'processes'} ${[...new Set(idle)].join(', ')} sent no email that night and still noted a run. ` +
          "The team reads each row of jobs_log as a run of the job. A process that does not win the night's claim skips the whole run, its row in the log included: write the row only after the run that sent the emails."
        : `Process ${[...new Set(twice)].join(', ')} noted the same night's run more than once in the jobs log: one run, one row.`,
  });
}
