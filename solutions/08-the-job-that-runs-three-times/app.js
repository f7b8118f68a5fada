// The Corner Shop's daily deals: every night at 03:00 (UTC) each subscriber gets one email
// with the day's deals. The same app serves the shop's deals page.
//
// The host runs this file on three worker processes per machine. The shop keeps its data in two places:
// - DATABASE_URL: the shop's PostgreSQL database, on a server every machine reaches over the network:
//     subscribers (email)                                   who gets the email
//     outbox      (id, recipient, subject, sent_by, sent_at) every email sent, as the mail service logs it
// - SHOP_DB: a SQLite file on this machine's own disk:
//     jobs_log    (id, job, period, ran_by, finished_at)     one row per finished run of a job, for the team
// The host also runs jobs.js, beside this file, in one process of its own (see that file).
import Database from 'better-sqlite3';
import express from 'express';
import pg from 'pg';

const db = new Database(process.env.SHOP_DB);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const insertLog = db.prepare('INSERT INTO jobs_log (job, period, ran_by, finished_at) VALUES (?, ?, ?, ?)');

// To add a table to the shared database, create it with migrate(): every worker runs
// module-level code at the same moment, and two `CREATE TABLE IF NOT EXISTS` of one table at
// once can fail in PostgreSQL. The lock makes the workers take turns (a real deployment runs
// its migrations once, before the workers start).
async function migrate(sql) {
  await pool.query(`BEGIN; SELECT pg_advisory_xact_lock(1); ${sql}; COMMIT`);
}

// One row per run of a job, in the database every machine shares: its key (job, period) can
// exist only once. Every worker's timer fires at 03:00, on every machine; each one tries to
// claim the night's run, and PostgreSQL lets exactly one claim in. The others see that and do
// nothing. (The key's columns are NOT NULL: a NULL never conflicts with another.)
await migrate(`CREATE TABLE IF NOT EXISTS job_runs (
  job text NOT NULL,
  period text NOT NULL,
  claimed_by integer NOT NULL,
  claimed_at timestamptz NOT NULL,
  PRIMARY KEY (job, period)
)`);

/** True for the one process that gets to run `job` for `period`. */
async function claimRun(job, period) {
  const { rowCount } = await pool.query(
    'INSERT INTO job_runs (job, period, claimed_by, claimed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
    [job, period, process.pid, new Date().toISOString()],
  );
  return rowCount === 1;
}

const DEALS = ['Green tea: 2 for 1', 'Rye bread: -20%', 'Honey: free jar over 30 EUR'];

// The mail service takes a moment per message. (The course's clock makes it instant in checks.)
async function sendMail(to, subject) {
  await new Promise((resolve) => setTimeout(resolve, 250));
  await pool.query('INSERT INTO outbox (recipient, subject, sent_by, sent_at) VALUES ($1, $2, $3, $4)', [to, subject, process.pid, new Date().toISOString()]);
}

// Email today's deals to every subscriber, then note the run in the jobs log.
async function sendDailyDeals() {
  const day = new Date().toISOString().slice(0, 10);
  if (!(await claimRun('daily-deals', day))) return; // another process, here or on another machine, has tonight's run
  const { rows } = await pool.query('SELECT email FROM subscribers ORDER BY email');
  for (const { email } of rows) {
    await sendMail(email, `Deals of ${day}: ${DEALS.join(', ')}`);
  }
  insertLog.run('daily-deals', day, process.pid, new Date().toISOString());
}

// Run `job` every day at `hour`:00 UTC.
function everyDayAt(hour, job) {
  const now = new Date();
  const next = new Date(now);
  next.setUTCHours(hour, 0, 0, 0);
  if (next <= now) next.setUTCDate(next.getUTCDate() + 1);
  setTimeout(() => {
    job().catch((error) => console.error(`The ${job.name} job failed:`, error));
    everyDayAt(hour, job);
  }, next - now);
}

everyDayAt(3, sendDailyDeals);

const app = express();
app.use(express.json());
app.use(express.urlencoded({ extended: false }));

app.get('/api/sent', async (req, res) => {
  const { rows } = await pool.query('SELECT recipient AS "to", subject, sent_by AS "sentBy", sent_at AS "sentAt" FROM outbox ORDER BY id');
  res.json({ sent: rows });
});

app.post('/api/subscribe', async (req, res) => {
  const email = String(req.body?.email ?? '').trim().toLowerCase();
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) return res.status(400).json({ error: 'Send an email address, like {"email": "ana@example.com"}' });
  await pool.query('INSERT INTO subscribers (email) VALUES ($1) ON CONFLICT DO NOTHING', [email]);
  if (req.is('urlencoded')) return res.redirect(303, '/'); // the page's form
  res.status(201).json({ email });
});

app.get('/', async (req, res) => {
  const { rows } = await pool.query('SELECT count(*)::int AS count FROM outbox');
  res.send(`<!doctype html><title>Daily deals</title><h1>Today's deals</h1>
<ul>${DEALS.map((d) => `<li>${d}</li>`).join('')}</ul>
<p>Get them by email every morning:</p>
<form method="post" action="/api/subscribe"><input name="email" type="email" placeholder="you@example.com"> <button>Subscribe</button></form>
<p><small>${rows[0].count} emails sent so far.</small></p>`);
});

export default app;
