# The Corner Shop's basket: visitors put items in it and see what they have put there.
#
# For now the host runs a single worker process, as your laptop's dev server does.
from html import escape

from flask import Flask, redirect, request

app = Flask(__name__)

basket = []


def posted_item():
    """The item sent as JSON ({"item": "tea"}) by the API, or by the page's form."""
    data = request.get_json(silent=True) if request.is_json else request.form
    return str((data or {}).get("item", "")).strip()


@app.get("/api/basket")
def show_basket():
    return {"items": basket}


@app.post("/api/basket")
def add_to_basket():
    item = posted_item()
    if not item:
        return {"error": 'Send an item, like {"item": "tea"}'}, 400
    basket.append(item)
    if request.mimetype == "application/x-www-form-urlencoded":
        return redirect("/", code=303)  # the page's form
    return {"items": basket}, 201


@app.get("/")
def page():
    rows = "".join(f"<li>{escape(item)}</li>" for item in basket)
    return f"""<!doctype html><title>Your basket</title><h1>Your basket</h1><ul>{rows}</ul>
<form method="post" action="/api/basket"><input name="item" autofocus> <button>Add</button></form>"""
