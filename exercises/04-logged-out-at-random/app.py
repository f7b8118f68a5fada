# The Corner Shop's accounts: log in, see who you are, log out.
#
# The host runs this app on three worker processes, and (as gunicorn does without --preload)
# each worker imports this module itself. Two settings come from the environment:
#   ACCOUNTS_DB     a SQLite database that every worker can open. Its tables:
#                     users    (name TEXT PRIMARY KEY, salt TEXT, hash TEXT)
#                     sessions (sid TEXT PRIMARY KEY, data TEXT NOT NULL, expires INTEGER NOT NULL)
#                   `sessions` is empty, ready for a session store that wants it.
#   SESSION_SECRET  a long random secret for signing cookies, the same on every worker
import hashlib
import hmac
import os
import sqlite3
from contextlib import closing
from html import escape

from flask import Flask, redirect, request, session

app = Flask(__name__)
# Flask keeps the session in a cookie, signed with this key so that nobody can edit it.
app.secret_key = os.urandom(32)


def check_password(name, password):
    with closing(sqlite3.connect(os.environ["ACCOUNTS_DB"])) as db:
        row = db.execute("SELECT salt, hash FROM users WHERE name = ?", (str(name),)).fetchone()
    if row is None:
        return False
    salt, expected = row
    digest = hashlib.scrypt(str(password).encode(), salt=salt.encode(), n=1024, r=8, p=1, dklen=32)
    return hmac.compare_digest(digest, bytes.fromhex(expected))


def posted():
    return (request.get_json(silent=True) if request.is_json else request.form) or {}


@app.post("/api/login")
def login():
    data = posted()
    name = data.get("name")
    if not check_password(name, data.get("password", "")):
        return {"error": "Wrong name or password"}, 401
    session["user"] = name
    if request.mimetype == "application/x-www-form-urlencoded":
        return redirect("/", code=303)  # the page's form
    return {"user": name}


@app.get("/api/me")
def me():
    return {"user": session.get("user")}


@app.post("/api/logout")
def logout():
    session.clear()
    if request.mimetype == "application/x-www-form-urlencoded":
        return redirect("/", code=303)
    return {"user": None}


@app.get("/")
def page():
    user = session.get("user")
    if user:
        body = f'<p>Logged in as <b>{escape(user)}</b>.</p><form method="post" action="/api/logout"><button>Log out</button></form>'
    else:
        body = """<p>Not logged in. (Try alice / wonderland or bob / builder.)</p>
<form method="post" action="/api/login"><input name="name" placeholder="name" autofocus>
<input name="password" type="password" placeholder="password"> <button>Log in</button></form>"""
    return f"<!doctype html><title>Your account</title><h1>Your account</h1>{body}"
