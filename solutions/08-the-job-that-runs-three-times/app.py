# The Corner Shop's daily deals: every night at 03:00 (UTC) each subscriber gets one email
# with the day's deals. The same app serves the shop's deals page.
#
# The host runs this app on three worker processes per machine, each importing this file
# itself (as gunicorn does without --preload). The shop keeps its data in two places:
# - DATABASE_URL: the shop's PostgreSQL database, on a server every machine reaches over the network:
#     subscribers (email)                                    who gets the email
#     outbox      (id, recipient, subject, sent_by, sent_at) every email sent, as the mail service logs it
# - SHOP_DB: a SQLite file on this machine's own disk:
#     jobs_log    (id, job, period, ran_by, finished_at)      one row per finished run of a job, for the team
# The host also runs jobs.py, beside this file, in one process of its own (see that file).
import os
import re
import sqlite3
import threading
import time
from contextlib import closing
from datetime import datetime, timedelta, timezone
from html import escape

from flask import Flask, jsonify, redirect, request

try:
    import psycopg  # psycopg 3
except ImportError:
    import psycopg2 as psycopg  # psycopg 2: the same calls, for everything this app does


def shared():
    """A connection to the shared PostgreSQL database; each statement commits on its own."""
    conn = psycopg.connect(os.environ["DATABASE_URL"])
    conn.autocommit = True
    return closing(conn)


def query(sql, params=()):
    """Run one statement on the shared database; returns its rows (if any) and how many rows it changed."""
    with shared() as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall() if cur.description else []
        return rows, cur.rowcount


# To add a table to the shared database, create it with migrate(): every worker runs
# module-level code at the same moment, and two `CREATE TABLE IF NOT EXISTS` of one table at
# once can fail in PostgreSQL. The lock makes the workers take turns (a real deployment runs
# its migrations once, before the workers start).
def migrate(sql):
    with shared() as conn, conn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SELECT pg_advisory_xact_lock(1)")
        cur.execute(sql)
        cur.execute("COMMIT")


# One row per run of a job, in the database every machine shares: its key (job, period) can
# exist only once. Every worker's thread wakes at 03:00, on every machine; each one tries to
# claim the night's run, and PostgreSQL lets exactly one claim in. The others see that and do
# nothing. (The key's columns are NOT NULL: a NULL never conflicts with another.)
migrate(
    """CREATE TABLE IF NOT EXISTS job_runs (
         job text NOT NULL,
         period text NOT NULL,
         claimed_by integer NOT NULL,
         claimed_at timestamptz NOT NULL,
         PRIMARY KEY (job, period)
       )"""
)


def claim_run(job, period):
    """True for the one process that gets to run `job` for `period`."""
    _, claimed = query(
        "INSERT INTO job_runs (job, period, claimed_by, claimed_at) VALUES (%s, %s, %s, now()) ON CONFLICT DO NOTHING",
        (job, period, os.getpid()),
    )
    return claimed == 1


DEALS = ["Green tea: 2 for 1", "Rye bread: -20%", "Honey: free jar over 30 EUR"]


def send_mail(to, subject):
    """The mail service takes a moment per message. (The course's clock makes it instant in checks.)"""
    time.sleep(0.25)
    query(
        "INSERT INTO outbox (recipient, subject, sent_by, sent_at) VALUES (%s, %s, %s, %s)",
        (to, subject, os.getpid(), datetime.now(timezone.utc).isoformat()),
    )


def send_daily_deals():
    """Email today's deals to every subscriber, then note the run in the jobs log."""
    day = datetime.now(timezone.utc).date().isoformat()
    if not claim_run("daily-deals", day):
        return  # another process, here or on another machine, has tonight's run
    rows, _ = query("SELECT email FROM subscribers ORDER BY email")
    for (email,) in rows:
        send_mail(email, f"Deals of {day}: {', '.join(DEALS)}")
    with closing(sqlite3.connect(os.environ["SHOP_DB"], timeout=10)) as db, db:
        db.execute(
            "INSERT INTO jobs_log (job, period, ran_by, finished_at) VALUES (?, ?, ?, ?)",
            ("daily-deals", day, os.getpid(), datetime.now(timezone.utc).isoformat()),
        )


def every_day_at(hour, job):
    """Run `job` every day at `hour`:00 UTC, in a thread of this process."""

    def loop():
        while True:
            now = datetime.now(timezone.utc)
            next_run = now.replace(hour=hour, minute=0, second=0, microsecond=0)
            if next_run <= now:
                next_run += timedelta(days=1)
            time.sleep((next_run - now).total_seconds())
            try:
                job()
            except Exception as error:
                print(f"The {job.__name__} job failed: {error!r}", flush=True)

    threading.Thread(target=loop, name=job.__name__, daemon=True).start()


every_day_at(3, send_daily_deals)

app = Flask(__name__)


@app.get("/api/sent")
def sent():
    rows, _ = query("SELECT recipient, subject, sent_by, sent_at FROM outbox ORDER BY id")
    return jsonify(sent=[{"to": r[0], "subject": r[1], "sentBy": r[2], "sentAt": r[3]} for r in rows])


@app.post("/api/subscribe")
def subscribe():
    form = request.form if not request.is_json else (request.get_json(silent=True) or {})
    email = str(form.get("email") or "").strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", email):
        return jsonify(error='Send an email address, like {"email": "ana@example.com"}'), 400
    query("INSERT INTO subscribers (email) VALUES (%s) ON CONFLICT DO NOTHING", (email,))
    if not request.is_json:
        return redirect("/", 303)  # the page's form
    return jsonify(email=email), 201


@app.get("/")
def page():
    rows, _ = query("SELECT count(*) FROM outbox")
    deals = "".join(f"<li>{escape(d)}</li>" for d in DEALS)
    return f"""<!doctype html><title>Daily deals</title><h1>Today's deals</h1>
<ul>{deals}</ul>
<p>Get them by email every morning:</p>
<form method="post" action="/api/subscribe"><input name="email" type="email" placeholder="you@example.com"> <button>Subscribe</button></form>
<p><small>{rows[0][0]} emails sent so far.</small></p>"""
