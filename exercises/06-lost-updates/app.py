# The Corner Shop's flash sale: a handful of teapots, and a crowd of buyers at the same moment.
#
# The host runs this app on three worker processes, each serving one request at a time (as
# gunicorn's sync workers do). From the environment:
#   SHOP_DB      the shop's SQLite database, shared by every worker. Its tables:
#                  stock  (id TEXT PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, price INTEGER NOT NULL)
#                  orders (id INTEGER PRIMARY KEY AUTOINCREMENT, product TEXT NOT NULL, buyer TEXT NOT NULL, charge INTEGER)
#   PAYMENTS_DB  the card provider's ledger, used by charge() below.
# The shop sells one product, id 'teapot' (its name, price and stock vary).
import os
import sqlite3
import time
from contextlib import closing
from html import escape

from flask import Flask, redirect, request

PRODUCT = "teapot"


def shop():
    return closing(sqlite3.connect(os.environ["SHOP_DB"], timeout=10))


# The card provider's client. charge(buyer, cents, key) returns the charge's id once the provider
# has answered, which takes it a moment. `key` is optional: an idempotency key, as real providers
# take one; asking again with the same key (a retry after a crash) charges only once.
# It is not part of the exercise: leave it as it is (the course plays the provider and watches
# its ledger).
def charge(buyer, amount, key=None):
    with closing(sqlite3.connect(os.environ["PAYMENTS_DB"], timeout=10)) as ledger:
        known = None if key is None else ledger.execute("SELECT id, status FROM charges WHERE idempotency_key = ?", (str(key),)).fetchone()
        if known and known[1] == "paid":
            return known[0]
        if known:
            charge_id = known[0]
        else:
            with ledger:
                charge_id = ledger.execute(
                    "INSERT INTO charges (buyer, amount, status, idempotency_key) VALUES (?, ?, 'pending', ?)",
                    (buyer, amount, None if key is None else str(key)),
                ).lastrowid
        time.sleep(0.2)  # the provider's answer
        with ledger:
            ledger.execute("UPDATE charges SET status = 'paid' WHERE id = ?", (charge_id,))
        return charge_id


app = Flask(__name__)


def posted():
    return (request.get_json(silent=True) if request.is_json else request.form) or {}


# A purchase: {"buyer": "dana"}
@app.post("/api/buy")
def buy():
    buyer = str(posted().get("buyer") or "").strip()
    if not buyer:
        return {"error": 'Send a buyer, like {"buyer": "dana"}'}, 400

    with shop() as db:
        qty, price = db.execute("SELECT qty, price FROM stock WHERE id = ?", (PRODUCT,)).fetchone()
    if qty <= 0:
        return {"error": "Sold out"}, 409
    charge_id = charge(buyer, price)
    with shop() as db, db:
        db.execute("UPDATE stock SET qty = ? WHERE id = ?", (qty - 1, PRODUCT))
        order = db.execute("INSERT INTO orders (product, buyer, charge) VALUES (?, ?, ?)", (PRODUCT, buyer, charge_id)).lastrowid

    if request.mimetype == "application/x-www-form-urlencoded":
        return redirect("/", code=303)  # the page's form
    return {"order": order, "left": qty - 1}, 201


def stock():
    with shop() as db:
        name, qty, price = db.execute("SELECT name, qty, price FROM stock WHERE id = ?", (PRODUCT,)).fetchone()
        sold = db.execute("SELECT count(*) FROM orders WHERE product = ?", (PRODUCT,)).fetchone()[0]
    return name, qty, price, sold


@app.get("/api/stock")
def api_stock():
    name, qty, _price, sold = stock()
    return {"product": name, "left": qty, "sold": sold}


@app.get("/")
def page():
    name, qty, price, sold = stock()
    return f"""<!doctype html><title>Flash sale</title><h1>Flash sale: {escape(name)}, {price / 100:.2f}</h1>
<p>{qty} left, {sold} sold.</p>
<form method="post" action="/api/buy"><input name="buyer" placeholder="your name" autofocus> <button>Buy one</button></form>"""
