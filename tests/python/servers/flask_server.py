"""examples/flask_app.py as the HTTP tests run it: the harness's clock,
lifetime and cookie path from the environment, and the counter under /app/
too (for the session path test)."""

from __future__ import annotations

import os

from file_clock import test_options
from flask import session

from examples.flask_app import create_app

config: dict[str, object] = {"SPYSESSION_OPTIONS": test_options()}
if os.environ.get("SPYSESSION_TEST_LIFETIME"):
    config["PERMANENT_SESSION_LIFETIME"] = int(os.environ["SPYSESSION_TEST_LIFETIME"])
if os.environ.get("SPYSESSION_TEST_PATH"):
    config["SESSION_COOKIE_PATH"] = os.environ["SPYSESSION_TEST_PATH"]
app = create_app(**config)


@app.route("/app/")
def app_index():
    session["visited"] = session.get("visited", 0) + 1
    return f"You visited us {session['visited']} times."
