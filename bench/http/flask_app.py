"""The Flask bench app: /visit, /add/<k>, /count, /plain, with one session
backend per row, each configured as its docs say.

    gunicorn 'flask_app:from_env()'       (BENCH_BACKEND etc., see stores.py)
    create_app(Where(...))                (the in-process benchmark)
"""

from __future__ import annotations

import flask
from flask import Flask, request

from stores import EXPIRE, SECRET, Where, count_added, spysession_store


def spysession_wsgi(app: Flask, where: Where):
    """spysession today: the WSGI middleware, the session in the environ."""
    from spysession import SessionManager
    from spysession.wsgi import SessionMiddleware

    app.wsgi_app = SessionMiddleware(app.wsgi_app, SessionManager(spysession_store(where), expire=EXPIRE))
    return lambda: request.environ["spysession"]


def spysession_dropin(app: Flask, where: Where):
    """spysession's Flask drop-in: flask.session is the spysession session."""
    import spysession.flask

    app.config["SPYSESSION_STORE"] = spysession_store(where)
    spysession.flask.init_app(app)
    return lambda: flask.session


# spysession_wsgi is kept to compare the drop-in with the WSGI middleware.
SPYSESSION = spysession_dropin


def flask_cookie(app: Flask, where: Where):
    """Flask's own session: a signed cookie (itsdangerous), nothing stored."""
    return lambda: flask.session


def flask_session_fs(app: Flask, where: Where):
    """Flask-Session 0.8 with cachelib's FileSystemCache, as its docs show."""
    from cachelib.file import FileSystemCache
    from flask_session import Session

    app.config.update(
        SESSION_TYPE="cachelib",
        SESSION_CACHELIB=FileSystemCache(cache_dir=where.path("flask_session/"), threshold=500),
    )
    Session(app)
    return lambda: flask.session


def flask_session_redis(app: Flask, where: Where):
    """Flask-Session 0.8 with Redis (redis-py client), as its docs show."""
    from flask_session import Session
    from redis import Redis

    app.config.update(
        SESSION_TYPE="redis",
        SESSION_REDIS=Redis.from_url(where.redis_url),
        SESSION_KEY_PREFIX=where.prefix,
    )
    Session(app)
    return lambda: flask.session


BACKENDS = {
    "flask-spy-dbm": SPYSESSION,
    "flask-spy-dbm-durable": SPYSESSION,
    "flask-spy-redis": SPYSESSION,
    "flask-cookie": flask_cookie,
    "flask-session-fs": flask_session_fs,
    "flask-session-redis": flask_session_redis,
}


def create_app(where: Where) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, PERMANENT_SESSION_LIFETIME=EXPIRE)
    session = BACKENDS[where.backend](app, where)

    @app.get("/visit")
    def visit():
        s = session()
        s["counter"] = s.get("counter", 0) + 1
        return str(s["counter"])

    @app.get("/add/<k>")
    def add(k):
        session()[k] = 1
        return "ok"

    @app.get("/count")
    def count():
        return str(count_added(session().keys()))

    @app.get("/plain")
    def plain():
        return "plain"

    return app


def from_env() -> Flask:
    return create_app(Where.from_env())
