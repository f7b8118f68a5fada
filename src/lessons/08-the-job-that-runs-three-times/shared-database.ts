// Lesson 8's eyes on the shared PostgreSQL database: the mail service's outbox, and a way to
// make every process that runs the job at 03:00 reach the database before any of them writes.
import type { Client } from 'pg';

/**
 * How long the sessions that came must wait, with nothing else running, when fewer than expected
 * come and the processes still at work are not all waiting (a last resort: see `stillMoving`).
 */
const CALM_MS = 800;
/** How long "every process still at work waits here" must hold before it is believed (an app may await something else first). */
const SETTLED_MS = 60;

export interface Sent {
  readonly id: number;
  readonly recipient: string;
  /** The sending process's pid, as the app's sendMail records it. */
  readonly sentBy: unknown;
}

async function connect(url: string): Promise<Client> {
  const { default: pg } = await import('pg');
  const client = new pg.Client(url);
  client.on('error', () => {}); // the run's database dropped under an open session
  await client.connect();
  return client;
}

/** The emails the mail service logged after `afterId`, oldest first. */
export async function readOutbox(url: string, afterId: number): Promise<Sent[]> {
  const client = await connect(url);
  try {
    const { rows } = await client.query<Sent>('SELECT id, recipient, sent_by AS "sentBy" FROM outbox WHERE id > $1 ORDER BY id', [afterId]);
    return rows;
  } finally {
    await client.end();
  }
}

/** Who gets the deals email, as the shared database has them. */
export async function readSubscribers(url: string): Promise<string[]> {
  const client = await connect(url);
  try {
    const { rows } = await client.query<{ email: string }>('SELECT email FROM subscribers ORDER BY email');
    return rows.map((r) => r.email);
  } finally {
    await client.end();
  }
}

/** Writes held back until every process has come with its own; release() lets them all go at once. */
export interface WriteHold {
  /**
   * Resolves once `expected` sessions wait on the hold, or, when fewer come (a fix that runs the
   * job in fewer processes), once every process still at work waits there (`stillMoving`) and
   * nothing else runs. Bounded.
   */
  queued(expected: number, limitMs?: number): Promise<void>;
  release(): Promise<void>;
}

/**
 * Lock every table of the app's (in every schema) but the mail service's outbox, so that reads and writes queue
 * up. Released, the processes that queued all run their first statements at once: a "check, then
 * insert" without a unique key lets each of them in, every run, whereas a claim the database
 * arbitrates (a unique key, a lock) still lets exactly one in. The release has two steps, so that
 * "at once" holds on a busy machine too: the queued reads go on while writes still wait (a share
 * lock on each table, queued behind the reads before the hold goes), and the writes go only once
 * every process that read has come to its write. `stillMoving` counts the processes still running
 * what the clock woke: once all of them wait here, no one else is coming.
 */
export async function holdWrites(url: string, stillMoving: () => number = () => Infinity): Promise<WriteHold> {
  const client = await connect(url);
  const { rows } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
      WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND schemaname NOT LIKE 'pg\\_%'
        AND NOT (schemaname = 'public' AND tablename = 'outbox')`,
  );
  const names = rows.map((r) => r.name);
  // One session per table for the share locks: `LOCK TABLE a, b` waits for a before it even asks
  // for b, so a single session would queue on the first table only, and a process released by
  // the hold could write to the second before the share lock reached it.
  const shares = await Promise.all(names.map(() => connect(url)));
  await client.query('BEGIN');
  if (names.length) await client.query(`LOCK TABLE ${names.join(', ')} IN ACCESS EXCLUSIVE MODE`);
  let released = false;
  /** How many of the sessions that queued on the hold came to read: each may come back to write. */
  let readers = 1;

  /** Look until `expected` sessions wait on a lock, or no one else is coming (see above), or, last, those that came have waited a while with nothing else running. */
  async function waitersQueued(expected: number, limitMs: number, except: number[], afterRelease = false): Promise<void> {
    const deadline = Date.now() + limitMs;
    let calmSince: number | undefined;
    let settledSince: number | undefined;
    while (Date.now() < deadline) {
      // Inside a transaction the activity view keeps its first snapshot unless told to look again.
      await client.query('SELECT pg_stat_clear_snapshot()');
      // Once the reads are let in, no read waits for a table (only writes do, on the share
      // locks): a read still shown waiting for one has its lock and is about to run, and counts
      // as running. Other waits (an advisory lock, another session's row) are real waits.
      const { rows: [seen] } = await client.query<{ waiting: number; busy: number }>(
        `WITH sessions AS (
           SELECT state, wait_event_type = 'Lock' AND (NOT $2 OR wait_event <> 'relation' OR query ~* '^\\s*(insert|update|delete|merge)\\M') AS held
             FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> ALL($1::int[]) AND backend_type = 'client backend')
         SELECT count(*) FILTER (WHERE held)::int AS waiting,
                count(*) FILTER (WHERE (state IS NULL OR state <> 'idle') AND NOT held)::int AS busy
           FROM sessions`,
        [except, afterRelease],
      );
      if (seen && seen.waiting >= expected) return;
      // Every process still running what the clock woke waits here, and nothing else runs: no one else is coming.
      if (seen && seen.busy === 0 && seen.waiting >= stillMoving()) settledSince ??= Date.now();
      else settledSince = undefined;
      if (settledSince !== undefined && Date.now() - settledSince >= SETTLED_MS) return;
      // The last resort, for a process that the clock's count cannot see coming.
      if (seen && (seen.waiting > 0 || afterRelease) && seen.busy === 0) calmSince ??= Date.now();
      else calmSince = undefined;
      if (calmSince !== undefined && Date.now() - calmSince >= CALM_MS) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const pidOf = async (session: Client) => (await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const sharePids = await Promise.all(shares.map(pidOf));
  const ours = [await pidOf(client), ...sharePids];
  const endAll = () => Promise.all([client, ...shares].map((session) => session.end().catch(() => {})));

  return {
    async queued(expected, limitMs = 5000) {
      await waitersQueued(expected, limitMs, ours);
      await client.query('SELECT pg_stat_clear_snapshot()');
      const { rows: [seen] } = await client.query<{ readers: number }>(
        `SELECT count(*) FILTER (WHERE query !~* '^\\s*(insert|update|delete|merge)\\M')::int AS readers
           FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> ALL($1::int[]) AND backend_type = 'client backend' AND wait_event_type = 'Lock'`,
        [ours],
      );
      readers = seen?.readers ?? expected;
    },
    async release() {
      if (released) return;
      released = true;
      try {
        if (names.length) {
          // Step 1: each table's share lock joins its queue behind the waiting reads, then the
          // hold goes: the reads are let in together, writes wait on the share locks.
          await Promise.all(shares.map((session) => session.query('BEGIN')));
          const granted = Promise.all(shares.map((session, i) => session.query(`LOCK TABLE ${names[i]} IN SHARE MODE`)));
          granted.catch(() => {});
          for (const deadline = Date.now() + 2000; Date.now() < deadline; ) {
            await client.query('SELECT pg_stat_clear_snapshot()');
            const { rows: [queued] } = await client.query<{ n: number }>(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND wait_event_type = 'Lock'",
              [sharePids],
            );
            if (queued && queued.n === shares.length) break;
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          await client.query('COMMIT').catch(() => {});
          await granted;
          // Step 2: once every process that read has come to its write (or no one else is coming), the writes go.
          // (A claim the database arbitrated may have no write left to make: then nothing comes.)
          // The writes that queued on the hold came before the share locks and are done by now.
          if (readers > 0) await waitersQueued(readers, 5000, ours, true);
          await Promise.all(shares.map((session) => session.query('COMMIT')));
        } else {
          await client.query('COMMIT').catch(() => {});
        }
      } finally {
        await endAll();
      }
    },
  };
}

/**
 * What the app changed in the mail service's table: the outbox is the mail service's log of
 * the emails it sent, not the app's, so an index, a constraint, a trigger, a rule or a policy
 * added to it (one that would drop or change what the mail service writes) is a change to the
 * mail service, which a real app cannot make. Empty when the table is as the shop seeded it:
 * its five columns, its primary key, nothing else.
 */
export async function outboxChanges(url: string): Promise<string[]> {
  const client = await connect(url);
  try {
    const { rows } = await client.query<{ change: string }>(
      `SELECT 'it is no longer a table' AS change FROM pg_class WHERE oid = to_regclass('public.outbox') AND relkind <> 'r'
       UNION ALL SELECT 'row-level security is on' FROM pg_class WHERE oid = to_regclass('public.outbox') AND relrowsecurity
       UNION ALL SELECT 'an index: ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'outbox' AND indexname <> 'outbox_pkey'
       UNION ALL SELECT 'a constraint: ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass('public.outbox') AND contype NOT IN ('p', 'n')
       UNION ALL SELECT 'a trigger: ' || tgname FROM pg_trigger WHERE tgrelid = to_regclass('public.outbox') AND NOT tgisinternal
       UNION ALL SELECT 'a rule: ' || rulename FROM pg_rules WHERE schemaname = 'public' AND tablename = 'outbox'
       UNION ALL SELECT 'a policy: ' || policyname FROM pg_policies WHERE schemaname = 'public' AND tablename = 'outbox'`,
    );
    return rows.map((r) => r.change);
  } finally {
    await client.end();
  }
}
