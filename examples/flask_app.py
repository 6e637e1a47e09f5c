"""A Flask app on spysession: visit counter, login, logout.

    SPYSESSION_STORE=/tmp/sessions gunicorn -w 2 --threads 8 'examples.flask_app:create_app()'

Settings come from the environment the Flask way (``FLASK_*``, see
``Flask.config.from_prefixed_env``), e.g. ``FLASK_PERMANENT_SESSION_LIFETIME=3600``.
"""

from __future__ import annotations

import os

from flask import Flask, jsonify, request, session

import spysession.flask


def create_app(**config: object) -> Flask:
    app = Flask(__name__)
    app.config["SPYSESSION_STORE"] = os.environ.get("SPYSESSION_STORE", "memory:")
    app.config.from_prefixed_env()
    app.config.update(config)
    spysession.flask.init_app(app)

    @app.route("/")
    def index():
        session["visited"] = session.get("visited", 0) + 1
        return f"You visited us {session['visited']} times."

    @app.route("/login", methods=["POST"])
    def login():
        session.regenerate()  # a new id at login: no session fixation
        session["user"] = request.form["user"]
        session.permanent = request.form.get("remember") == "1"
        return "welcome"

    @app.route("/logout", methods=["POST"])
    def logout():
        session.invalidate()  # a slow request still running cannot undo it
        return "bye"

    @app.route("/whoami")
    def whoami():
        return session.get("user", "nobody")

    @app.route("/set/<key>", methods=["POST"])
    def set_key(key: str):
        session[key] = request.form.get("value", "1")
        return "ok"

    @app.route("/keys")
    def keys():
        return jsonify(sorted(session.keys()))

    @app.route("/health")
    def health():
        return "ok"  # never touches the session: no store access, no cookie

    return app
