// Lesson 8's eyes on the shared PostgreSQL database: the mail service's outbox, and a way to
// make every process that runs the job at 03:00 reach the database before any of them writes.
import type { Client } from 'pg';

/** How long the sessions that came must wait, with nothing else running, when fewer than expected come. */
const CALM_MS = 800;

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
   * job in fewer processes), once those that came wait and nothing else runs. Bounded.
   */
  queued(expected: number, limitMs?: number): Promise<void>;
  release(): Promise<void>;
}

/**
 * Lock every table of the app's but the mail service's outbox, so that reads and writes queue
 * up. Released together, the processes that queued all run their first statements at once: a
 * "check, then insert" without a unique key lets each of them in, every run, whereas a claim
 * the database arbitrates (a unique key, a lock) still lets exactly one in.
 */
export async function holdWrites(url: string): Promise<WriteHold> {
  const client = await connect(url);
  const { rows } = await client.query<{ name: string }>(
    "SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'outbox'",
  );
  await client.query('BEGIN');
  if (rows.length) await client.query(`LOCK TABLE ${rows.map((r) => r.name).join(', ')} IN ACCESS EXCLUSIVE MODE`);
  let released = false;
  return {
    async queued(expected, limitMs = 5000) {
      const deadline = Date.now() + limitMs;
      let calmSince: number | undefined;
      // The database has no event for "every client that will come now waits": look again until
      // `expected` wait, or until those that came have waited, with nothing else running, for a
      // while (a fix that runs the job in fewer processes; a process's connection takes time).
      while (Date.now() < deadline) {
        // Inside a transaction the activity view keeps its first snapshot unless told to look again.
        await client.query('SELECT pg_stat_clear_snapshot()');
        const { rows: [seen] } = await client.query<{ waiting: number; busy: number }>(
          `SELECT count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS waiting,
                  count(*) FILTER (WHERE (state IS NULL OR state <> 'idle') AND wait_event_type IS DISTINCT FROM 'Lock')::int AS busy
             FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        );
        if (seen && seen.waiting >= expected) return;
        if (seen && seen.waiting > 0 && seen.busy === 0) calmSince ??= Date.now();
        else calmSince = undefined;
        if (calmSince !== undefined && Date.now() - calmSince >= CALM_MS) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async release() {
      if (released) return;
      released = true;
      await client.query('COMMIT').catch(() => {});
      await client.end().catch(() => {});
    },
  };
}
