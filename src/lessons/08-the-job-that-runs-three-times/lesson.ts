import path from 'node:path';
import Database from 'better-sqlite3';
import { expectJson, fail } from '../../check/expect.ts';
import type { CheckContext, Lesson } from '../types.ts';
import { markdown } from '../text.ts';

const SUBSCRIBERS = ['ana@example.com', 'ben@example.com', 'chloe@example.com'];
const HOUR = 3_600_000;
/** Monday 2 June 2025, 09:00 UTC: the shop opens, and the workers start. */
const START = Date.UTC(2025, 5, 2, 9, 0, 0);
/** The job's hour (UTC), as the starter schedules it. */
const RUN_HOUR = 3;

interface Sent {
  readonly id: number;
  readonly recipient: string;
  /** The sending process's pid, as the app's sendMail records it. */
  readonly sentBy: unknown;
}

/** The first RUN_HOUR:00 UTC strictly after `now`. */
function nextRun(now: number): number {
  const next = new Date(now);
  next.setUTCHours(RUN_HOUR, 0, 0, 0);
  if (next.getTime() <= now) next.setUTCDate(next.getUTCDate() + 1);
  return next.getTime();
}

function readOutbox(ctx: CheckContext, afterId: number): Sent[] {
  const db = new Database(ctx.env.SHOP_DB, { readonly: true });
  try {
    return db.prepare('SELECT id, recipient, sent_by AS sentBy FROM outbox WHERE id > ? ORDER BY id').all(afterId) as Sent[];
  } finally {
    db.close();
  }
}

const lastId = (ctx: CheckContext) => readOutbox(ctx, 0).at(-1)?.id ?? 0;

/**
 * One night: move every process's clock to 03:00 at once (each job starts, and waits on the mail
 * service), then let an hour pass (every send finishes). Returns the night's date and its emails.
 */
async function night(ctx: CheckContext): Promise<{ date: string; sent: Sent[] }> {
  const now = (await ctx.clockState(1))?.now;
  if (now === undefined) fail({ expected: 'worker 1 to be running', got: 'no worker 1' });
  const due = nextRun(now);
  const before = lastId(ctx);
  await ctx.advanceClock(due - now);
  await ctx.advanceClock(HOUR);
  return { date: new Date(due).toISOString().slice(0, 10), sent: readOutbox(ctx, before) };
}

/** Show the mail log as the app serves it, so the transcript has the night's story. */
async function showSent(ctx: CheckContext): Promise<void> {
  const reply = await ctx.visitor('ops').get('/api/sent');
  expectJson(reply, 'JSON like {"sent": [...]}');
}

/** Demand exactly one email per subscriber for the night; `diagnose` explains too many. */
function expectOncePerSubscriber(date: string, sent: readonly Sent[], diagnose: (copies: number, senders: number) => string): void {
  for (const email of SUBSCRIBERS) {
    const mine = sent.filter((s) => s.recipient === email);
    if (mine.length === 1) continue;
    const pids = [...new Set(mine.map((s) => String(s.sentBy)))];
    const senders = pids.length;
    fail({
      expected: `one deals email to ${email} on the night of ${date}`,
      got:
        mine.length === 0
          ? 'none'
          : `${mine.length}, sent by ${senders} different process${senders === 1 ? '' : 'es'} (pid${senders === 1 ? '' : 's'} ${pids.join(', ')})`,
      diagnosis:
        mine.length === 0
          ? 'No process ran the job that night. If you moved it to jobs.js, does jobs.js start the schedule, at module level or in a default-exported function? If you claim each run in the database, is the claim keyed by the night (not by something that never repeats, or always does)?'
          : diagnose(mine.length, senders),
    });
  }
}

const PER_WORKER =
  'The timer is started at module level, and module-level code runs once in every worker process: each of them runs the job at 03:00. ' +
  'A flag in one process cannot stop the others, and looking for a log row before running is no better: every process looks before any of them writes. ' +
  "Run the job in one process (jobs.js), or let the database decide which process gets each night's run (a claim whose key can exist only once).";

const lesson: Lesson = {
  number: 8,
  slug: '08-the-job-that-runs-three-times',
  title: 'The job that runs three times',
  track: 'advanced',
  summary: 'Every subscriber gets the nightly deals email three times: once per worker.',
  file: 'app.js',
  jobs: 'jobs.js',
  text: () => markdown(import.meta.url, 'text.md'),
  why: () => markdown(import.meta.url, 'why.md'),
  hints: [
    'Count the processes that run `everyDayAt(3, sendDailyDeals)`. It sits at module level, so it runs wherever app.js is imported: on every worker, three times.',
    'Two ways out. Run the schedule in exactly one process: the host runs jobs.js, beside app.js, once (move the job there and take it out of app.js). Or keep it on every worker and let the database pick one per night: a claim row whose key, (job, night), can exist only once.',
    'For the claim: `CREATE TABLE IF NOT EXISTS job_runs (job TEXT, period TEXT, PRIMARY KEY (job, period))`, then at the start of the job `INSERT ... ON CONFLICT DO NOTHING` and go on only when `.changes === 1`. Checking jobs_log first and writing it after sending is not enough: all three check before any of them writes. And "only the worker whose NODE_APP_INSTANCE is 0" breaks as soon as there is a second machine, with its own worker 0.',
  ],
  workers: 3,
  mode: 'sequential',
  clock: 'manual',
  brief(json) {
    const sent = (json as { sent?: Array<{ to?: unknown }> }).sent;
    if (!Array.isArray(sent)) return undefined;
    const counts = new Map<string, number>();
    for (const s of sent) counts.set(String(s.to), (counts.get(String(s.to)) ?? 0) + 1);
    return `${sent.length} email${sent.length === 1 ? '' : 's'} sent: ${[...counts].map(([to, n]) => `${to.split('@')[0]} ×${n}`).join(', ') || 'none'}`;
  },
  seed(dir) {
    const file = path.join(dir, 'shop.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE subscribers (email TEXT PRIMARY KEY);
      CREATE TABLE outbox (id INTEGER PRIMARY KEY, recipient TEXT NOT NULL, subject TEXT NOT NULL, sent_by INTEGER NOT NULL, sent_at TEXT NOT NULL);
      CREATE TABLE jobs_log (id INTEGER PRIMARY KEY, job TEXT NOT NULL, period TEXT NOT NULL, ran_by INTEGER NOT NULL, finished_at TEXT NOT NULL);
    `);
    const add = db.prepare('INSERT INTO subscribers (email) VALUES (?)');
    for (const email of SUBSCRIBERS) add.run(email);
    db.close();
    return { SHOP_DB: file, COURSE_CLOCK_START: String(START) };
  },
  steps: [
    {
      title: 'The first night, each subscriber gets the deals email once',
      async run(ctx) {
        const { date, sent } = await night(ctx);
        await showSent(ctx);
        expectOncePerSubscriber(date, sent, (copies, senders) =>
          senders > 1 ? `${PER_WORKER} (${copies} copies: one per process that ran it.)` : `One process sent it ${copies} times: does the job start more than once a night?`,
        );
      },
    },
    {
      title: 'Two more nights: one email a night to each subscriber',
      async run(ctx) {
        for (let n = 0; n < 2; n++) {
          const { date, sent } = await night(ctx);
          await showSent(ctx);
          expectOncePerSubscriber(date, sent, () =>
            `The first night went right and this one did not: whatever decides who runs the job must decide again each night. ${PER_WORKER}`,
          );
        }
      },
    },
    {
      title: 'On two machines of three workers each, still one email a night',
      reloads: true,
      async run(ctx) {
        await ctx.setMachines(2);
        const { date, sent } = await night(ctx);
        await showSent(ctx);
        expectOncePerSubscriber(date, sent, (copies) =>
          copies === 2
            ? "One copy per machine. Is the job limited to one worker by its number (NODE_APP_INSTANCE, pm_id...)? Each machine's process manager numbers its own workers, so there are now two workers 0. A number says where a process sits, not that it is the only one: claim the run in the database the machines share, or run the job in the deployment's one scheduled process (jobs.js)."
            : `${PER_WORKER} (${copies} copies.)`,
        );
      },
    },
  ],
};

export default lesson;
