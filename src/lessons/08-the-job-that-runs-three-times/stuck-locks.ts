// Lesson 8's watch on the shared database's advisory locks while a night's hour passes: a lock
// left with a connection that does nothing, while every process still at work waits for it, is
// held for good (nothing that could let it go is running), and the night never ends.
import type { Client } from 'pg';
import { CheckFailure } from '../../check/expect.ts';
import type { CheckContext } from '../types.ts';

/** How long a held lock's connection must stay idle, with everyone still at work waiting for it, before the lock counts as stuck. */
const STUCK_MS = 3000;
const LOOK_EVERY_MS = 100;

interface Stuck {
  readonly holder: number;
  readonly since: string;
  readonly waiters: number;
  readonly waiting: number;
}

/** The idle connection that holds an advisory lock others wait for, if any (the one idle the longest). */
async function idleHolder(client: Client, except: number): Promise<Stuck | undefined> {
  await client.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await client.query<Stuck>(
    `WITH advisory AS (
       SELECT pid, granted, classid, objid, objsubid FROM pg_locks
        WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND pid <> $1)
     SELECT h.pid AS holder, a.state_change::text AS since,
            (SELECT count(*) FROM advisory w WHERE NOT w.granted AND (w.classid, w.objid, w.objsubid) = (h.classid, h.objid, h.objsubid))::int AS waiters,
            (SELECT count(DISTINCT pid) FROM advisory WHERE NOT granted)::int AS waiting
       FROM advisory h JOIN pg_stat_activity a ON a.pid = h.pid
      WHERE h.granted AND a.state IN ('idle', 'idle in transaction')
      ORDER BY a.state_change
      LIMIT 1`,
    [except],
  );
  const found = rows[0];
  return found && found.waiters > 0 ? found : undefined;
}

function stuckFailure(ctx: CheckContext, stuck: Stuck): CheckFailure {
  const node = ctx.track !== 'flask';
  return new CheckFailure({
    expected: 'every advisory lock let go by the connection that took it, once its work is done',
    got: `a connection (PostgreSQL pid ${stuck.holder}) that does nothing holds an advisory lock, and ${stuck.waiters} other${stuck.waiters === 1 ? '' : 's'} wait${stuck.waiters === 1 ? 's' : ''} for it for good: the night's jobs never finish`,
    diagnosis:
      'A session lock (pg_advisory_lock) belongs to the connection that took it: only that connection can let it go, and until it does, every other pg_advisory_lock on the same key waits. ' +
      (node
        ? 'pool.query runs each statement on whichever connection of the pool is free, and on a host with visitors that is seldom the one the previous pool.query used: an unlock sent with its own pool.query reaches a connection that does not hold the lock (it returns false), the work between ran on other connections outside the lock, and the lock stays with an idle connection in the pool. ' +
          'Take one connection with `const client = await pool.connect()`, run the lock, the work and the unlock on it, then `client.release()`; or use pg_advisory_xact_lock inside BEGIN … COMMIT on that client (or in one multi-statement pool.query, as migrate() does), which lets go at COMMIT.'
        : 'Run the lock, the work and the unlock on one connection, and let go on that connection (or use pg_advisory_xact_lock inside a transaction, which lets go at COMMIT); a connection that keeps a lock and is never used or closed again holds it for good.'),
  });
}

export interface LockWatch {
  /** Rejects with the check's failure once a lock is stuck; never resolves. */
  readonly stuck: Promise<never>;
  stop(): Promise<void>;
}

/** Watch the shared database's advisory locks until stop(). */
export async function watchStuckLocks(ctx: CheckContext): Promise<LockWatch> {
  const { default: pg } = await import('pg');
  const client = new pg.Client(ctx.env.DATABASE_URL);
  client.on('error', () => {}); // the run's database dropped under an open session
  await client.connect();
  const { rows: [me] } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const stuck = new Promise<never>((_, reject) => {
    let seen: { key: string; at: number } | undefined;
    const look = async () => {
      if (stopped) return;
      try {
        const found = await idleHolder(client, me!.pid);
        // Stuck only when everyone still at work waits on a lock: then nothing that could let it go runs.
        const key = found && found.waiting >= ctx.clockMoving() ? `${found.holder} ${found.since}` : undefined;
        if (!key) seen = undefined;
        else if (seen?.key !== key) seen = { key, at: Date.now() };
        else if (Date.now() - seen.at >= STUCK_MS) return reject(stuckFailure(ctx, found!));
      } catch {
        if (stopped) return;
      }
      if (!stopped) timer = setTimeout(() => void look(), LOOK_EVERY_MS);
    };
    wake = () => void look();
  });
  stuck.catch(() => {});
  wake?.();
  return {
    stuck,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await client.end().catch(() => {});
    },
  };
}
