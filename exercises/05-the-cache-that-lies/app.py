# The Corner Shop's price list, with a page where the shop's staff change a price.
#
# The host runs this app on three worker processes. SHOP_DB names a SQLite database that every
# worker can open; its table is:
#   CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL)
# Prices are in cents.
import os
import sqlite3
from contextlib import closing
from html import escape

from flask import Flask, redirect, request


def database():
    return closing(sqlite3.connect(os.environ["SHOP_DB"], timeout=5))


def load_products():
    with database() as db:
        rows = db.execute("SELECT id, name, price FROM products ORDER BY id").fetchall()
    return [{"id": i, "name": n, "price": p} for i, n, p in rows]


# The price list is the busiest page of the shop, so each worker keeps it in memory after the
# first read, and forgets it when a price changes.
cached_products = None


def products():
    global cached_products
    if cached_products is None:
        cached_products = load_products()
    return cached_products


def forget_products():
    global cached_products
    cached_products = None


app = Flask(__name__)


@app.get("/api/products")
def api_products():
    return {"products": products()}


# The staff's edit: {"id": 2, "price": 199}
@app.post("/api/admin/price")
def change_price():
    data = (request.get_json(silent=True) if request.is_json else request.form) or {}
    try:
        product, price = int(data.get("id")), int(data.get("price"))
    except (TypeError, ValueError):
        product, price = None, -1
    if product is None or price < 0:
        return {"error": 'Send a product id and a price in cents, like {"id": 2, "price": 199}'}, 400
    with database() as db, db:
        changed = db.execute("UPDATE products SET price = ? WHERE id = ?", (price, product)).rowcount
    if changed == 0:
        return {"error": f"No product {product}"}, 404
    forget_products()
    if request.mimetype == "application/x-www-form-urlencoded":
        return redirect("/", code=303)  # the page's form
    return {"products": products()}


@app.get("/")
def page():
    rows = "".join(f"<li>{p['id']}. {escape(p['name'])}: {p['price'] / 100:.2f}</li>" for p in products())
    return f"""<!doctype html><title>Prices</title><h1>Prices</h1><ul>{rows}</ul>
<form method="post" action="/api/admin/price">Product <input name="id" size="3"> new price in cents
<input name="price" size="6"> <button>Change</button></form>"""
