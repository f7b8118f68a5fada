import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expectJson, fail } from '../../check/expect.ts';
import type { Reply } from '../../check/visitor.ts';
import type { CheckContext, Lesson } from '../types.ts';
import { markdown } from '../text.ts';
import { expectLogged } from './jobs-log.ts';
import { night, type Night } from './nights.ts';
import { outboxChanges, readSubscribers } from './shared-database.ts';

const SUBSCRIBERS = ['ana@example.com', 'ben@example.com', 'chloe@example.com'];
/** Who subscribes on the deals page before the first night (one of them, drawn from the run's seed). */
const NEWCOMERS = ['dana', 'eli', 'femi', 'gus'];
/**
 * A night moves every process through an hour of its timers: a job that ticks once a minute
 * makes sixty database calls per process, and a step holds up to three nights and a restart.
 */
const NIGHTS_MS = 30_000;
/** How far the second machine's clock runs behind the first's: NTP keeps machines close, not equal. */
const SKEW_MS = 90_000;

function expectPage(reply: Reply): void {
  if (reply.status !== 200) fail({ expected: `the deals page from ${describe(reply)}`, got: `status ${reply.status}: ${reply.body.slice(0, 120)}` });
}

/** A newcomer finds the deals page and subscribes with its form, as a person does, before the first night. */
async function subscribeOnThePage(ctx: CheckContext): Promise<void> {
  const name = NEWCOMERS[Math.floor(ctx.random() * NEWCOMERS.length)]!;
  const email = `${name}@example.com`;
  const visitor = ctx.visitor(name);
  const page = await visitor.page('/');
  expectPage(page);
  expectPage(await visitor.fillIn(page, { email }));
  if (!(await readSubscribers(ctx.env.DATABASE_URL)).includes(email)) {
    fail({
      expected: `${email} among the subscribers after the deals page's form was sent`,
      got: 'not there',
      diagnosis: 'The subscribe form (POST /api/subscribe) should add the address to the subscribers table of the shared database.',
    });
  }
}

/** Show the mail log as the app serves it, so the transcript has the night's story. */
async function showSent(ctx: CheckContext): Promise<void> {
  const reply = await ctx.visitor('ops', { kind: 'api' }).get('/api/sent');
  expectJson(reply, 'JSON like {"sent": [...]}');
}

/** What a night's verdict says when the emails did not go out once each. */
interface Diagnoses {
  /** Too many: `copies` emails to one subscriber, from `senders` processes. */
  many(copies: number, senders: number): string;
  /** None at all; a general question about the schedule and the claim otherwise. */
  none?: string;
}

/**
 * The mail service's log is the mail service's: an app that changes the table (a unique index
 * that drops the second copy, a trigger) has made the log lie about what was sent, while every
 * process still called the mail service. The claim must come before the send.
 */
async function expectMailServiceUntouched(ctx: CheckContext, date: string): Promise<void> {
  const changes = await outboxChanges(ctx.env.DATABASE_URL);
  if (changes.length === 0) return;
  fail({
    expected: `the mail service's log (the outbox table) as the mail service keeps it, after the night of ${date}`,
    got: `the app changed it: ${changes.join('; ')}`,
    diagnosis:
      `The outbox is the mail service's log of the emails it sent, not one of the app's tables: an index or a trigger there that drops a second copy hides it from the log, but every process that called ${ctx.track === 'flask' ? 'send_mail' : 'sendMail'} still sent its email, and each subscriber still got several. ` +
      'Leave the outbox as it is, and decide who runs the job before any email goes out: a claim of the night in a table of your own, or the job in one process.',
  });
}

/** Demand exactly one email per subscriber for the night. */
function expectOncePerSubscriber(ctx: CheckContext, { date, subscribers, sent }: Night, diagnoses: Diagnoses): void {
  const jobs = ctx.track === 'flask' ? 'jobs.py' : 'jobs.js';
  for (const email of subscribers) {
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
          ? (diagnoses.none ??
            `No process ran the job that night. If you moved it to ${jobs}, does ${jobs} start the schedule${ctx.track === 'flask' ? ' when it runs' : ', at module level or in a default-exported function'}? If you claim each run in the database, is the claim keyed by the night (not by something that never repeats, or always does)?`)
          : diagnoses.many(mine.length, senders),
    });
  }
}

/** The night's verdict: the mail service's log untouched, one email per subscriber, the run noted in the jobs log by the processes that ran it. */
async function judge(ctx: CheckContext, result: Night, diagnoses: Diagnoses, machines = 1): Promise<void> {
  await showSent(ctx);
  await expectMailServiceUntouched(ctx, result.date);
  expectOncePerSubscriber(ctx, result, diagnoses);
  expectLogged(ctx, result.date, result.sent, machines);
}

/** Why no process ran the job on the night after a deploy, in the words of the app's track. */
function afterDeploy(ctx: CheckContext): string {
  return (
    'The night before the deploy went right, and after it no process sent anything. ' +
    "If each run claims the night in the database, the claim's key must name the night itself (its date, which every process reads alike from the clock), not something a process counts or keeps in memory: a deploy, a crash or a new machine starts every process's count over, and the key comes back to one an earlier night used. " +
    'If one process is chosen once, when it starts (by a lock it takes then and keeps for its life: on a file, a port, in the database): in a deploy the new processes start while the old one still holds the lock, so none of them wins it, and once the old one stops nobody runs the job. Decide who runs it each night, when the night comes. ' +
    `(If the job runs in ${ctx.track === 'flask' ? 'jobs.py' : 'jobs.js'}: the deploy restarted that process too; does it start the schedule again?)`
  );
}

/** Why every worker runs the job, in the words of the app's track. */
function perWorker(ctx: CheckContext): string {
  const flask = ctx.track === 'flask';
  return (
    (flask
      ? 'The schedule starts at module level, and each worker imports app.py itself: each of them starts a thread that runs the job at 03:00. '
      : 'The timer is started at module level, and module-level code runs once in every worker process: each of them runs the job at 03:00. ') +
    'A flag in one process cannot stop the others, and looking for a row before writing one is no better: every process looks before any of them writes. ' +
    `Run the job in one process (${flask ? 'jobs.py' : 'jobs.js'}), or let the shared database decide which process gets each night's run (a claim whose key can exist only once).` +
    (flask
      ? ''
      : ' (A transaction or a lock spread over separate pool.query calls holds nothing: each call runs on whichever connection of the pool is free, on a busy host seldom the same one twice. Run such statements on one client from pool.connect(), or send them as one multi-statement pool.query.)')
  );
}

/** Why each machine runs the job once, in the words of the app's track. */
function perMachine(ctx: CheckContext): string {
  const flask = ctx.track === 'flask';
  return (
    'One copy per machine: whatever decided who runs the job decided on each machine alone. ' +
    'A worker number (NODE_APP_INSTANCE, pm_id...) is counted on each machine, so there are now two workers 0; ' +
    "a claim in SHOP_DB is a claim in this machine's own SQLite file, which the other machine never sees; " +
    "a lock file (in /tmp, beside the app, anywhere on disk) is a lock on one machine's disk; " +
    'a claim keyed by machine (its host name, its id) lets one process per machine in. ' +
    `Claim the night's run in the PostgreSQL database every machine shares (DATABASE_URL), keyed by job and night only, or run the job in the deployment's one scheduled process (${flask ? 'jobs.py' : 'jobs.js'}).`
  );
}

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
    'Count the processes that run `everyDayAt(3, sendDailyDeals)`. It sits at module level, so it runs wherever app.js is imported: on every worker, three times, and on every machine.',
    'Two ways out. Run the schedule in exactly one process: the host runs jobs.js, beside app.js, once for the whole deployment (move the job there and take it out of app.js). Or keep it on every worker and let the database every machine shares pick one per night: a claim row whose key, (job, night), can exist only once. SHOP_DB will not do for that: each machine has its own file, and a lock file lives on one machine\'s disk too.',
    'For the claim, in PostgreSQL (create the table with the starter\'s `migrate()`): `CREATE TABLE IF NOT EXISTS job_runs (job text NOT NULL, period text NOT NULL, PRIMARY KEY (job, period))`, then at the start of the job `INSERT INTO job_runs (job, period) VALUES ($1, $2) ON CONFLICT DO NOTHING` and go on only when `rowCount === 1`. (Or take `pg_advisory_xact_lock` in a transaction, look for tonight\'s row, and insert it.) Looking first and inserting after, with no unique key and no lock, is not enough: every process looks before any of them writes. And "only the worker whose NODE_APP_INSTANCE is 0" breaks on the second machine, with its own worker 0.',
  ],
  flask: {
    file: 'app.py',
    jobs: 'jobs.py',
    // gunicorn without --preload: each worker imports the app, so a thread started at import runs in every worker.
    load: 'lazy',
    text: () => markdown(import.meta.url, 'text.flask.md'),
    why: () => markdown(import.meta.url, 'why.flask.md'),
    hints: [
      'Count the processes that run `every_day_at(3, send_daily_deals)`. It sits at module level, and each worker imports app.py itself: three threads, three runs, three emails, and as many again on every machine.',
      'Two ways out. Run the schedule in exactly one process: the host runs jobs.py, beside app.py, once for the whole deployment (start the schedule there and take it out of app.py). Or keep it on every worker and let the database every machine shares pick one per night: a claim row whose key, (job, night), can exist only once. SHOP_DB will not do for that: each machine has its own file, and a lock file lives on one machine\'s disk too.',
      'For the claim, in PostgreSQL (create the table with the starter\'s `migrate()`): `CREATE TABLE IF NOT EXISTS job_runs (job text NOT NULL, period text NOT NULL, PRIMARY KEY (job, period))`, then at the start of the job `INSERT INTO job_runs (job, period) VALUES (%s, %s) ON CONFLICT DO NOTHING` and go on only when `cursor.rowcount == 1` (the starter\'s `query()` returns it). Looking first and inserting after, with no unique key and no lock, is not enough: every process looks before any of them writes. A `threading` flag or an `fcntl` lock file decides per process or per machine, not for the shop.',
    ],
  },
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
  // Each machine's own disk: a SQLite file with the jobs log its processes write.
  seed(dir) {
    const file = path.join(dir, 'shop.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE jobs_log (id INTEGER PRIMARY KEY, job TEXT NOT NULL, period TEXT NOT NULL, ran_by INTEGER NOT NULL, finished_at TEXT NOT NULL)');
    db.close();
    // The clock starts at the real time, as a real host's does: a fixed date would tell the app
    // it runs on the course.
    return { SHOP_DB: file };
  },
  // The database every machine shares: the subscribers, and the mail service's log.
  database: {
    sql: `
      CREATE TABLE subscribers (email text PRIMARY KEY);
      CREATE TABLE outbox (id serial PRIMARY KEY, recipient text NOT NULL, subject text NOT NULL, sent_by integer NOT NULL, sent_at text NOT NULL);
      INSERT INTO subscribers (email) VALUES ${SUBSCRIBERS.map((email) => `('${email}')`).join(', ')};
    `,
  },
  // The last step runs two machines: each has a disk of its own from the first step on.
  machines: 2,
  steps: [
    {
      title: 'The first night, each subscriber gets the deals email once',
      timeoutMs: NIGHTS_MS,
      async run(ctx) {
        await subscribeOnThePage(ctx);
        await judge(ctx, await night(ctx), {
          many: (copies, senders) =>
            senders > 1 ? `${perWorker(ctx)} (${copies} copies: one per process that ran it.)` : `One process sent it ${copies} times: does the job start more than once a night?`,
        });
      },
    },
    {
      title: 'Two more nights, with a deploy between them: one email a night to each subscriber',
      timeoutMs: NIGHTS_MS,
      reloads: true,
      async run(ctx) {
        const again = (): Diagnoses => ({
          many: () => `The first night went right and this one did not: whatever decides who runs the job must decide again each night. ${perWorker(ctx)}`,
        });
        await judge(ctx, await night(ctx), again());
        // The next day the team deploys a new version: the new workers start while the old ones
        // still serve (as gunicorn's HUP or PM2's reload does), the old ones stop once the new
        // ones serve, and the jobs process restarts.
        await ctx.reload({ startFirst: true });
        await judge(ctx, await night(ctx), { ...again(), none: afterDeploy(ctx) });
      },
    },
    {
      title: 'On two machines of three workers each, still one email a night',
      timeoutMs: NIGHTS_MS,
      reloads: true,
      async run(ctx) {
        // The second machine's clock runs a little behind the first's, as two machines' clocks do.
        await ctx.setMachines(2, { clockBehindMs: SKEW_MS });
        await judge(ctx, await night(ctx, 2, SKEW_MS), { many: (copies) => (copies === 2 ? perMachine(ctx) : `${perWorker(ctx)} (${copies} copies.)`) }, 2);
      },
    },
  ],
};

export default lesson;
