"""The baseline for bench/pages.py: a bare Flask app rendering a small Jinja template.

Served under the same gunicorn settings as Bridge (`gunicorn -c python:app.gunicorn_conf
--pythonpath bench bare_app:application`), so the ratio to it is what Bridge's own work costs.
"""
from pathlib import Path

from flask import Flask, render_template

bare = Flask(__name__, template_folder=str(Path(__file__).resolve().parent / "templates"))
ITEMS = [{"title": f"Item {n}", "kind": "Brochure", "uses": n * 7} for n in range(12)]


@bare.route("/")
def index():
    return render_template("bare.html", items=ITEMS)


# The WSGI callable rather than the Flask object: Bridge's gunicorn worker_exit hook looks for
# Bridge's extensions on a Flask app and has nothing to close here.
application = bare.wsgi_app
