# The Corner Shop's account page: who you are, where your parcels go, what you have ordered.
#
# The host runs ONE worker process here with four threads, as gunicorn's gthread worker does
# (`--threads 4`): while one request waits for the network (the audit service, the warehouse...),
# another thread of the same process serves the next one. Settings come from the environment:
#   SHOP_DB        the shop's SQLite database (customers, orders, audit_log)
#   COOKIE_SECRET  the key that signs the sign-in cookie (Flask's session)
import os
import sqlite3
import time
from contextlib import closing
from datetime import datetime, timezone
from html import escape

from flask import Flask, g, redirect, request, session

app = Flask(__name__)
app.secret_key = os.environ["COOKIE_SECRET"]


def shop():
    return closing(sqlite3.connect(os.environ["SHOP_DB"], timeout=10))


def find_customer(name):
    with shop() as db:
        row = db.execute("SELECT id, name, full_name, address FROM customers WHERE name = ?", (name,)).fetchone()
    return None if row is None else {"id": row[0], "name": row[1], "full_name": row[2], "address": row[3]}


# Two services the shop calls over the network. Each call takes a moment, and the worker's other
# threads serve other requests meanwhile. (The course's clock plays the network: keep the calls.)
def write_audit_log(customer_name, path):
    time.sleep(0.02)
    with shop() as db, db:
        db.execute(
            "INSERT INTO audit_log (customer, path, at) VALUES (?, ?, ?)",
            (customer_name or "anonymous", path, datetime.now(timezone.utc).isoformat()),
        )


def fetch_orders(customer_id):
    time.sleep(0.6)
    with shop() as db:
        rows = db.execute("SELECT id, item, total FROM orders WHERE customer_id = ? ORDER BY id", (customer_id,)).fetchall()
    return [{"id": i, "item": item, "total": total} for i, item, total in rows]


# Who is asking: the name in the signed sign-in cookie, kept on flask.g, which belongs to this
# request alone (each request, on whichever thread, gets its own g).
@app.before_request
def who_is_asking():
    g.customer = find_customer(session.get("customer", ""))


# Every page view goes to the audit log.
@app.before_request
def audit():
    if request.method == "GET":
        write_audit_log(g.customer and g.customer["name"], request.path)


# A demo shortcut: anyone may sign in by name alone, no password. Never do this in a real shop.
@app.post("/login")
def login():
    data = (request.get_json(silent=True) if request.is_json else request.form) or {}
    customer = find_customer(str(data.get("name") or "").strip().lower())
    if customer is None:
        return {"error": "No customer by that name: try alice or bob"}, 401
    session["customer"] = customer["name"]
    if request.mimetype == "application/x-www-form-urlencoded":
        return redirect("/", code=303)  # the page's form
    return {"name": customer["name"]}


@app.post("/logout")
def logout():
    session.pop("customer", None)
    return redirect("/", code=303)


@app.get("/api/account")
def account():
    if g.customer is None:
        return {"error": "Sign in first"}, 401
    orders = fetch_orders(g.customer["id"])
    return {
        "name": g.customer["name"],
        "fullName": g.customer["full_name"],
        "address": g.customer["address"],
        "orders": orders,
    }


@app.get("/")
def page():
    if g.customer is None:
        return """<!doctype html><title>Sign in</title><h1>Your account</h1>
<p>A demo shortcut: you sign in by name alone, with no password (a real shop would ask for one).</p>
<form method="post" action="/login"><input name="name" placeholder="alice or bob" autofocus> <button>Sign in</button></form>"""
    orders = fetch_orders(g.customer["id"])
    rows = "".join(f"<li>#{o['id']} {escape(o['item'])}: {o['total'] / 100:.2f} EUR</li>" for o in orders)
    name = escape(g.customer["full_name"])
    return f"""<!doctype html><title>{name}</title><h1>{name}</h1>
<p>Deliver to: {escape(g.customer["address"])}</p><h2>Your orders</h2><ul>{rows}</ul>
<form method="post" action="/logout"><button>Sign out</button></form>"""
