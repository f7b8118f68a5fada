"""Prints the routes a Flask app module declares, as JSON: [{"method": "GET", "path": "/"}], with
Flask's <converter:name> parts written :name. Run with the lesson's environment (the app may read
its data at import)."""
import importlib.util
import json
import os
import re
import sys

app_file = sys.argv[1]
sys.path.insert(0, os.path.dirname(app_file))
spec = importlib.util.spec_from_file_location("app", app_file)
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
routes = []
for rule in module.app.url_map.iter_rules():
    if rule.endpoint == "static":
        continue
    path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r":\1", rule.rule)
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        routes.append({"method": method, "path": path})
sys.stdout.write(json.dumps(routes) + "\n")
sys.stdout.flush()
os._exit(0)
