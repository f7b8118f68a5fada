# The Corner Shop, all of it: a catalogue, sign-in, an account page and a checkout.
#
# The host runs this app on three worker processes with four threads each, as gunicorn's gthread
# worker does (`--workers 3 --threads 4`): while one request waits for the network, another thread
# of the same process serves the next visitor. The app is imported once, then the workers are
# forked. Settings come from the environment:
#   SHOP_DB         the shop's SQLite database:
#                     products  (id, name, price, stock)      prices in cents
#                     customers (name, full_name)
#                     orders    (id, customer, product_id, price)
#   SESSION_SECRET  a secret for signing cookies
#   PAYMENTS_DB     the card provider's ledger, which charge_card below writes to
import os
import sqlite3
import time
from contextlib import closing
from html import escape

from flask import Flask, g, redirect, request, session


def shop():
    return closing(sqlite3.connect(os.environ["SHOP_DB"], timeout=10))


def find_customer(name):
    with shop() as db:
        row = db.execute("SELECT name, full_name FROM customers WHERE name = ?", (name,)).fetchone()
    return None if row is None else {"name": row[0], "fullName": row[1]}


# Read on every request: the database is the only copy every worker sees, and it is current.
def read_products():
    with shop() as db:
        rows = db.execute("SELECT id, name, price, stock FROM products ORDER BY id").fetchall()
    return [{"id": i, "name": name, "price": price, "stock": stock} for i, name, price, stock in rows]


def find_product(product_id):
    with shop() as db:
        row = db.execute("SELECT id, name, price FROM products WHERE id = ?", (product_id,)).fetchone()
    return None if row is None else {"id": row[0], "name": row[1], "price": row[2]}


def reserve(customer_name, product):
    """Take one jar and book the order together, or neither; None when there is none left.

    The test "is there one left?" and the taking are one statement the database decides, one
    buyer at a time, whichever workers they are on. BEGIN IMMEDIATE takes the write lock first,
    and the transaction ends before the payment, so no buyer waits for another's payment."""
    with shop() as db:
        db.isolation_level = None
        db.execute("BEGIN IMMEDIATE")
        try:
            taken = db.execute("UPDATE products SET stock = stock - 1 WHERE id = ? AND stock > 0", (product["id"],)).rowcount
            if taken != 1:
                db.execute("ROLLBACK")
                return None
            order = db.execute(
                "INSERT INTO orders (customer, product_id, price) VALUES (?, ?, ?)",
                (customer_name, product["id"], product["price"]),
            ).lastrowid
            db.execute("COMMIT")
            return order
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


def release(order, product_id):
    """The payment failed: cancel the order and put the jar back on the shelf, together."""
    with shop() as db, db:
        db.execute("DELETE FROM orders WHERE id = ?", (order,))
        db.execute("UPDATE products SET stock = stock + 1 WHERE id = ?", (product_id,))


# Services the shop calls over the network; each call takes a moment, and the worker's other
# threads serve other requests meanwhile. (The course's clock plays the network: keep the calls.)
def fetch_orders(customer_name):
    time.sleep(0.3)
    with shop() as db:
        rows = db.execute(
            "SELECT orders.id, products.name, orders.price FROM orders JOIN products ON products.id = orders.product_id"
            " WHERE customer = ? ORDER BY orders.id",
            (customer_name,),
        ).fetchall()
    return [{"id": i, "item": item, "price": price} for i, item, price in rows]


# The card provider's client: the provider records each charge in its ledger (PAYMENTS_DB).
# It is not part of the exercise: leave it as it is (the course plays the provider and keeps
# its ledger).
def charge_card(customer_name, amount):
    time.sleep(0.5)
    with closing(sqlite3.connect(os.environ["PAYMENTS_DB"], timeout=10)) as ledger:
        with ledger:
            ledger.execute("INSERT INTO charges (customer, amount) VALUES (?, ?)", (customer_name, amount))
    return {"paid": amount, "by": customer_name}


app = Flask(__name__)
# The session lives in Flask's signed cookie: every worker can read it, nobody can forge it
# without this key, which every worker shares.
app.secret_key = os.environ["SESSION_SECRET"]
app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")


# The customer travels with the request on flask.g, not in a module variable that the next
# request, on another thread, overwrites.
@app.before_request
def who_is_asking():
    name = session.get("customer")
    g.customer = find_customer(name) if name else None


def posted():
    return (request.get_json(silent=True) if request.is_json else request.form) or {}


def from_the_form():
    return request.mimetype == "application/x-www-form-urlencoded"


@app.post("/login")
def login():
    customer = find_customer(str(posted().get("name") or "").strip().lower())
    if customer is None:
        return {"error": "No customer by that name: try alice, bob or carol"}, 401
    session["customer"] = customer["name"]
    if from_the_form():
        return redirect("/", code=303)  # the page's form
    return {"name": customer["name"]}


@app.get("/api/products")
def products():
    return {"products": read_products()}


@app.get("/api/me")
def me():
    if g.customer is None:
        return {"error": "Sign in first"}, 401
    return {"name": g.customer["name"], "fullName": g.customer["fullName"]}


@app.get("/api/account")
def account():
    if g.customer is None:
        return {"error": "Sign in first"}, 401
    orders = fetch_orders(g.customer["name"])
    return {"name": g.customer["name"], "fullName": g.customer["fullName"], "orders": orders}


@app.post("/api/buy")
def buy():
    if g.customer is None:
        return {"error": "Sign in first"}, 401
    try:
        product = find_product(int(posted().get("product")))
    except (TypeError, ValueError):
        product = None
    if product is None:
        return {"error": "No such product"}, 404
    order = reserve(g.customer["name"], product)
    if order is None:
        return {"error": f"{product['name']} is sold out"}, 409
    try:
        charge_card(g.customer["name"], product["price"])
    except BaseException:
        release(order, product["id"])  # the payment failed: the jar goes back on the shelf
        raise
    if from_the_form():
        return redirect("/", code=303)  # the page's form
    return {"order": order, "product": product["name"], "price": product["price"]}, 201


@app.get("/")
def page():
    rows = "".join(
        f"""<li>{escape(p["name"])}: {p["price"] / 100:.2f} EUR ({p["stock"]} left)
<form method="post" action="/api/buy" style="display:inline"><input type="hidden" name="product" value="{p["id"]}"><button>Buy</button></form></li>"""
        for p in read_products()
    )
    if g.customer is not None:
        who = f"<p>Signed in as {escape(g.customer['fullName'])}.</p>"
    else:
        who = """<form method="post" action="/login"><input name="name" placeholder="alice, bob or carol"> <button>Sign in</button></form>
<p><small>A demo shortcut: signing in takes only a customer's name, no password.</small></p>"""
    return f"<!doctype html><title>The Corner Shop</title><h1>The Corner Shop</h1>{who}<ul>{rows}</ul>"
