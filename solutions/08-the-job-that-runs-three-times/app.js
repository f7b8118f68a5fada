// The Corner Shop's daily deals: every night at 03:00 (UTC) each subscriber gets one email
// with the day's deals. The same app serves the shop's deals page.
//
// The host runs this file on three worker processes. SHOP_DB names the shop's SQLite database:
//   subscribers (email)                                  who gets the email
//   outbox      (id, recipient, subject, sent_by, sent_at) every email sent, as the mail service logs it
//   jobs_log    (id, job, period, ran_by, finished_at)    one row per finished run of a job, for the team
// The host also runs jobs.js, beside this file, in one process of its own (see that file).
import Database from 'better-sqlite3';
import express from 'express';

const db = new Database(process.env.SHOP_DB);
const selectSubscribers = db.prepare('SELECT email FROM subscribers ORDER BY email').pluck();
const insertOutbox = db.prepare('INSERT INTO outbox (recipient, subject, sent_by, sent_at) VALUES (?, ?, ?, ?)');
const insertLog = db.prepare('INSERT INTO jobs_log (job, period, ran_by, finished_at) VALUES (?, ?, ?, ?)');

// One row per run of a job: its key (job, period) can exist only once. Every worker's timer
// fires at 03:00, every worker tries to claim the night's run, and the database lets exactly
// one claim in. The others see that and do nothing.
db.exec(`CREATE TABLE IF NOT EXISTS job_runs (
  job TEXT NOT NULL,
  period TEXT NOT NULL,
  claimed_by INTEGER NOT NULL,
  PRIMARY KEY (job, period)
)`);
const claimRun = db.prepare('INSERT INTO job_runs (job, period, claimed_by) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');

const DEALS = ['Green tea: 2 for 1', 'Rye bread: -20%', 'Honey: free jar over 30 EUR'];

// The mail service takes a moment per message. (The course's clock makes it instant in checks.)
async function sendMail(to, subject) {
  await new Promise((resolve) => setTimeout(resolve, 250));
  insertOutbox.run(to, subject, process.pid, new Date().toISOString());
}

// Email today's deals to every subscriber, then note the run in the jobs log.
async function sendDailyDeals() {
  const day = new Date().toISOString().slice(0, 10);
  if (claimRun.run('daily-deals', day, process.pid).changes === 0) return; // another process has this night's run
  for (const email of selectSubscribers.all()) {
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

app.get('/api/sent', (req, res) => {
  const sent = db.prepare('SELECT recipient AS "to", subject, sent_by AS sentBy, sent_at AS sentAt FROM outbox ORDER BY id').all();
  res.json({ sent });
});

app.post('/api/subscribe', (req, res) => {
  const email = String(req.body?.email ?? '').trim().toLowerCase();
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) return res.status(400).json({ error: 'Send an email address, like {"email": "ana@example.com"}' });
  db.prepare('INSERT OR IGNORE INTO subscribers (email) VALUES (?)').run(email);
  if (req.is('urlencoded')) return res.redirect(303, '/'); // the page's form
  res.status(201).json({ email });
});

app.get('/', (req, res) => {
  const count = db.prepare('SELECT count(*) FROM outbox').pluck().get();
  res.send(`<!doctype html><title>Daily deals</title><h1>Today's deals</h1>
<ul>${DEALS.map((d) => `<li>${d}</li>`).join('')}</ul>
<p>Get them by email every morning:</p>
<form method="post" action="/api/subscribe"><input name="email" type="email" placeholder="you@example.com"> <button>Subscribe</button></form>
<p><small>${count} emails sent so far.</small></p>`);
});

export default app;
