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
import secrets
import sqlite3
import time
from contextlib import closing
from html import escape

from flask import Flask, redirect, request


def shop():
    return closing(sqlite3.connect(os.environ["SHOP_DB"], timeout=10))


def find_customer(name):
    with shop() as db:
        row = db.execute("SELECT name, full_name FROM customers WHERE name = ?", (name,)).fetchone()
    return None if row is None else {"name": row[0], "fullName": row[1]}


def read_products():
    with shop() as db:
        rows = db.execute("SELECT id, name, price, stock FROM products ORDER BY id").fetchall()
    return [{"id": i, "name": name, "price": price, "stock": stock} for i, name, price, stock in rows]


# The catalogue, loaded once so that pages are fast.
catalogue = read_products()


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

# The sessions: a random id in a cookie, and what it stands for kept here, in memory.
sessions = {}


def session_data():
    return sessions.get(request.cookies.get("sid", ""))


def start_session(response, data):
    sid = secrets.token_urlsafe(24)
    sessions[sid] = data
    response.set_cookie("sid", sid, httponly=True, samesite="Lax")
    return response


# The customer who sent the request being handled.
current_customer = None


@app.before_request
def who_is_asking():
    global current_customer
    data = session_data()
    current_customer = find_customer(data["customer"]) if data else None


def posted():
    return (request.get_json(silent=True) if request.is_json else request.form) or {}


def from_the_form():
    return request.mimetype == "application/x-www-form-urlencoded"


@app.post("/login")
def login():
    customer = find_customer(str(posted().get("name") or "").strip().lower())
    if customer is None:
        return {"error": "No customer by that name: try alice, bob or carol"}, 401
    if from_the_form():
        return start_session(redirect("/", code=303), {"customer": customer["name"]})  # the page's form
    return start_session(app.make_response({"name": customer["name"]}), {"customer": customer["name"]})


@app.get("/api/products")
def products():
    return {"products": catalogue}


@app.get("/api/me")
def me():
    if current_customer is None:
        return {"error": "Sign in first"}, 401
    return {"name": current_customer["name"], "fullName": current_customer["fullName"]}


@app.get("/api/account")
def account():
    if current_customer is None:
        return {"error": "Sign in first"}, 401
    orders = fetch_orders(current_customer["name"])
    return {"name": current_customer["name"], "fullName": current_customer["fullName"], "orders": orders}


@app.post("/api/buy")
def buy():
    if current_customer is None:
        return {"error": "Sign in first"}, 401
    try:
        wanted = int(posted().get("product"))
    except (TypeError, ValueError):
        wanted = None
    product = next((p for p in catalogue if p["id"] == wanted), None)
    if product is None:
        return {"error": "No such product"}, 404
    with shop() as db:
        (stock,) = db.execute("SELECT stock FROM products WHERE id = ?", (product["id"],)).fetchone()
    if stock < 1:
        return {"error": f"{product['name']} is sold out"}, 409
    charge_card(current_customer["name"], product["price"])
    with shop() as db, db:
        db.execute("UPDATE products SET stock = ? WHERE id = ?", (stock - 1, product["id"]))
        order = db.execute(
            "INSERT INTO orders (customer, product_id, price) VALUES (?, ?, ?)",
            (current_customer["name"], product["id"], product["price"]),
        ).lastrowid
    if from_the_form():
        return redirect("/", code=303)  # the page's form
    return {"order": order, "product": product["name"], "price": product["price"]}, 201


@app.get("/")
def page():
    rows = "".join(
        f"""<li>{escape(p["name"])}: {p["price"] / 100:.2f} EUR ({p["stock"]} left)
<form method="post" action="/api/buy" style="display:inline"><input type="hidden" name="product" value="{p["id"]}"><button>Buy</button></form></li>"""
        for p in catalogue
    )
    if current_customer is not None:
        who = f"<p>Signed in as {escape(current_customer['fullName'])}.</p>"
    else:
        who = """<form method="post" action="/login"><input name="name" placeholder="alice, bob or carol"> <button>Sign in</button></form>
<p><small>A demo shortcut: signing in takes only a customer's name, no password.</small></p>"""
    return f"<!doctype html><title>The Corner Shop</title><h1>The Corner Shop</h1>{who}<ul>{rows}</ul>"
