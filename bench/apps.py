"""In-process rows of the Python benchmark (issue 15, item 5): the Flask and
Django apps of the HTTP benchmark (bench/http/) driven through a test client,
no sockets, so a session backend's own cost per request shows without the
server's noise. Each row runs /visit (returning), /count (read-only) and a
first /visit without a cookie (new); a "/plain" row per framework is the
framework's own floor. Used by python_stores.py (BACKENDS)."""

from __future__ import annotations

import os
import sys

from backends import Backend, RedisServer

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "http"))

from stores import Where  # noqa: E402  (bench/http, appended above)


def cookie_header(set_cookies: list[str]) -> str:
    """The Cookie header a browser sends back after these Set-Cookie headers."""
    return "; ".join(h.split(";", 1)[0].strip() for h in set_cookies)


class App(Backend):
    """A bench app through a test client; cycles only (no clean, no bytes)."""

    cycles_only = True
    key = ""  # the app's backend key
    redis = False
    paths = ("/visit", "/visit", "/count")  # new, returning, read-only

    def __init__(self, path):
        super().__init__(path)
        url = RedisServer.get_url() if self.redis else ""
        self.where = Where(self.key, os.path.join(path, "cycles"), url, f"bench:{type(self).__name__}:")
        self.client = self.make_client()
        self.check()

    def get(self, path, cookie):
        """GET path with this Cookie header: (status, Set-Cookie headers, body)."""
        raise NotImplementedError

    def check(self):
        """Untimed: a browser keeping its cookie sees /visit count 1, 2."""
        if self.paths[1] != "/visit":
            return
        status, set_cookies, body = self.get("/visit", None)
        second = self.get("/visit", cookie_header(set_cookies))
        if (status, body, second[0], second[2]) != (200, b"1", 200, b"2"):
            raise SystemExit(f"{self.name}: /visit twice gave {status} {body!r}, {second[0]} {second[2]!r}")

    def new(self):
        status, set_cookies, _body = self.get(self.paths[0], None)
        assert status == 200, status
        return cookie_header(set_cookies)

    def returning(self, cookie):
        assert self.get(self.paths[1], cookie)[0] == 200

    def read_only(self, cookie):
        assert self.get(self.paths[2], cookie)[0] == 200


class FlaskApp(App):
    """Flask's test client (werkzeug's), cookies passed by hand."""

    def make_client(self):
        import flask_app

        return flask_app.create_app(self.where).test_client(use_cookies=False)

    def get(self, path, cookie):
        r = self.client.get(path, headers={"Cookie": cookie} if cookie else {})
        return r.status_code, r.headers.getlist("Set-Cookie"), r.get_data()


class DjangoApp(App):
    """Django's WSGI application (the callable gunicorn serves) through
    werkzeug's test client: the spysession row wraps that callable with the
    WSGI middleware until spysession.django lands, and django.test.Client
    calls Django's handler inside it. Django is configured once per process;
    each row switches with override_settings."""

    def make_client(self):
        import django_app
        from django.conf import settings
        from django.core.wsgi import get_wsgi_application
        from django.test.utils import override_settings
        from werkzeug.test import Client

        if not settings.configured:
            django_app.configure(Where("django-signed-cookies", os.path.dirname(self.path), "", ""))
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
        self.override = override_settings(**django_app.row_settings(self.where))
        self.override.enable()
        app = get_wsgi_application()
        if settings.BENCH_WRAP:
            from spysession import SessionManager
            from spysession.wsgi import SessionMiddleware

            from stores import EXPIRE, spysession_store

            app = SessionMiddleware(app, SessionManager(spysession_store(self.where), expire=EXPIRE))
        return Client(app, use_cookies=False)

    def get(self, path, cookie):
        r = self.client.get(path, headers={"Cookie": cookie} if cookie else {})
        return r.status_code, r.headers.getlist("Set-Cookie"), r.get_data()

    def close(self):
        self.override.disable()


def row(base, name, key, redis=False, paths=App.paths, cls=None):
    """A row's class (named for --only: flask_spy_dbm, django_plain...)."""
    cls = cls or key.replace("-", "_")
    return type(cls, (base,), {"name": name, "key": key, "redis": redis, "paths": paths})


PLAIN = ("/plain",) * 3
APPS = [
    row(FlaskApp, "Flask app /plain (no session)", "flask-cookie", paths=PLAIN, cls="flask_plain"),
    row(FlaskApp, "Flask app: spysession DbmStore", "flask-spy-dbm"),
    row(FlaskApp, "Flask app: spysession RedisStore", "flask-spy-redis", redis=True),
    row(FlaskApp, "Flask app: signed cookie", "flask-cookie"),
    row(FlaskApp, "Flask app: Flask-Session FileSystemCache", "flask-session-fs"),
    row(FlaskApp, "Flask app: Flask-Session Redis", "flask-session-redis", redis=True),
    row(DjangoApp, "Django app /plain (no session)", "django-signed-cookies", paths=PLAIN, cls="django_plain"),
    row(DjangoApp, "Django app: spysession DbmStore", "django-spy-dbm"),
    row(DjangoApp, "Django app: spysession RedisStore", "django-spy-redis", redis=True),
    row(DjangoApp, "Django app: db (SQLite)", "django-db"),
    row(DjangoApp, "Django app: cache (RedisCache)", "django-cache", redis=True),
    row(DjangoApp, "Django app: file", "django-file"),
    row(DjangoApp, "Django app: cached_db", "django-cached-db", redis=True),
    row(DjangoApp, "Django app: signed_cookies", "django-signed-cookies"),
]
