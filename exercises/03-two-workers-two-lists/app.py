# The Corner Shop's basket, now on a host that runs three worker processes.
#
# Each visitor already has an id of their own, in a cookie that every worker understands.
# BASKET_DB names a SQLite database that every worker can open; its table is:
#   CREATE TABLE basket_items (id INTEGER PRIMARY KEY, visitor TEXT NOT NULL, item TEXT NOT NULL)
from html import escape
from uuid import uuid4

from flask import Flask, after_this_request, redirect, request

app = Flask(__name__)


def visitor_id():
    """Who is asking: the id in the visitor's cookie, or a new one (sent back with the answer)."""
    visitor = request.cookies.get("visitor")
    if not visitor:
        visitor = uuid4().hex

        @after_this_request
        def remember(response):
            response.set_cookie("visitor", visitor, httponly=True, samesite="Lax")
            return response

    return visitor


baskets = {}


def items_of(visitor):
    return baskets.get(visitor, [])


def add_item(visitor, item):
    baskets[visitor] = items_of(visitor) + [item]


def posted_item():
    """The item sent as JSON ({"item": "tea"}) by the API, or by the page's form."""
    data = request.get_json(silent=True) if request.is_json else request.form
    return str((data or {}).get("item", "")).strip()


@app.get("/api/basket")
def show_basket():
    return {"items": items_of(visitor_id())}


@app.post("/api/basket")
def add_to_basket():
    item = posted_item()
    if not item:
        return {"error": 'Send an item, like {"item": "tea"}'}, 400
    visitor = visitor_id()
    add_item(visitor, item)
    if request.mimetype == "application/x-www-form-urlencoded":
        return redirect("/", code=303)  # the page's form
    return {"items": items_of(visitor)}, 201


@app.get("/")
def page():
    rows = "".join(f"<li>{escape(item)}</li>" for item in items_of(visitor_id()))
    return f"""<!doctype html><title>Your basket</title><h1>Your basket</h1><ul>{rows}</ul>
<form method="post" action="/api/basket"><input name="item" autofocus> <button>Add</button></form>"""
