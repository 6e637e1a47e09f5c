"""A Flask app with spysession as its session interface (``spysession.flask``),
from the installed wheel: two requests of one client count two visits, stored
in a DbmStore. Run as ``python flask_visits.py STORE_DIR``; exits non-zero on
any difference."""

import sys

import flask

import spysession
import spysession.flask

app = flask.Flask(__name__)
app.config["SPYSESSION_STORE"] = spysession.DbmStore(sys.argv[1])
spysession.flask.init_app(app)


@app.route("/")
def index() -> str:
    flask.session["visits"] = flask.session.get("visits", 0) + 1
    return str(flask.session["visits"])


client = app.test_client()
first, second = client.get("/"), client.get("/")
if (first.status_code, first.get_data(as_text=True)) != (200, "1"):
    sys.exit(f"first request: {first.status_code} {first.get_data(as_text=True)!r}")
if "Set-Cookie" not in first.headers:
    sys.exit("first request set no cookie")
if (second.status_code, second.get_data(as_text=True)) != (200, "2"):
    sys.exit(f"second request: {second.status_code} {second.get_data(as_text=True)!r}")
print("flask: 2 requests, visits=2")
