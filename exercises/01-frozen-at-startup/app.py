# The Corner Shop: a product list backed by a SQLite database.
#
# The course runs this file as a preforking host does (uWSGI, gunicorn --preload): it imports
# the module once, then forks several worker processes from it. Two settings come from the
# environment, as on a real host:
#   SHOP_DB      the shop's SQLite database (the stock team edits prices there)
#   SITE_CONFIG  the site's settings, a JSON file that changes only with a redeploy
import json
import os
import sqlite3
from html import escape

from flask import Flask

with open(os.environ["SITE_CONFIG"]) as config:
    site = json.load(config)

db = sqlite3.connect(os.environ["SHOP_DB"])
db.row_factory = sqlite3.Row
products = [dict(row) for row in db.execute("SELECT id, name, price FROM products ORDER BY id")]

app = Flask(__name__)


@app.get("/api/products")
def api_products():
    return {"shop": site["shopName"], "currency": site["currency"], "products": products}


@app.get("/")
def home():
    rows = "".join(f"<li>{escape(p['name'])}: {p['price'] / 100:.2f} {site['currency']}</li>" for p in products)
    name = escape(site["shopName"])
    return f"<!doctype html><title>{name}</title><h1>{name}</h1><ul>{rows}</ul>"
