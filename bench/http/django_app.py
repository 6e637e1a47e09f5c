"""The Django bench app in one module: /visit, /add/<k>, /count, /plain,
with one session engine per row, each configured as Django's docs say.

    gunicorn 'django_app:from_env()'         (BENCH_BACKEND etc., see stores.py)
    python django_app.py migrate             (the db and cached_db rows' table)

The in-process benchmark configures Django once (configure()) and switches
rows with override_settings(**row_settings(where)).
"""

from __future__ import annotations

import os
import sys

import django
from django.conf import settings
from django.http import HttpResponse
from django.urls import path

from stores import EXPIRE, SECRET, Where, count_added, spysession_store

SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"
ENGINES = "django.contrib.sessions.backends."


def spysession_wsgi(where: Where) -> dict:
    """spysession today: the WSGI middleware around Django's WSGI app
    (wrap_wsgi), the session in the environ; Django's own middleware off."""
    return {"MIDDLEWARE": [], "BENCH_SESSION": "environ", "BENCH_WRAP": True}


def spysession_dropin(where: Where) -> dict:
    """spysession's Django engine, configured like Django's own."""
    return {"SESSION_ENGINE": "spysession.django", "SPYSESSION_STORE": spysession_store(where)}


# spysession_wsgi is kept to compare the drop-in with the WSGI middleware.
SPYSESSION = spysession_dropin


def redis_cache(where: Where) -> dict:
    """Django's own Redis cache backend on the shared redis-server."""
    return {"CACHES": {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": where.redis_url,
        "KEY_PREFIX": where.prefix,
    }}}


BACKENDS = {
    "django-spy-dbm": SPYSESSION,
    "django-spy-redis": SPYSESSION,
    "django-db": lambda w: {"SESSION_ENGINE": ENGINES + "db"},
    "django-cache": lambda w: {"SESSION_ENGINE": ENGINES + "cache", **redis_cache(w)},
    "django-file": lambda w: {"SESSION_ENGINE": ENGINES + "file", "SESSION_FILE_PATH": w.path("django_file/")},
    "django-cached-db": lambda w: {"SESSION_ENGINE": ENGINES + "cached_db", **redis_cache(w)},
    "django-signed-cookies": lambda w: {"SESSION_ENGINE": ENGINES + "signed_cookies"},
}


def row_settings(where: Where) -> dict:
    s = {"MIDDLEWARE": [SESSIONS], "BENCH_SESSION": "django", "BENCH_WRAP": False}
    s.update(BACKENDS[where.backend](where))
    return s


def session_of(request):
    if settings.BENCH_SESSION == "environ":
        return request.environ["spysession"]
    return request.session


def visit(request):
    s = session_of(request)
    s["counter"] = s.get("counter", 0) + 1
    return HttpResponse(str(s["counter"]), content_type="text/plain")


def add(request, k):
    session_of(request)[k] = 1
    return HttpResponse("ok", content_type="text/plain")


def count(request):
    return HttpResponse(str(count_added(session_of(request).keys())), content_type="text/plain")


def plain(request):
    return HttpResponse("plain", content_type="text/plain")


urlpatterns = [
    path("visit", visit),
    path("add/<str:k>", add),
    path("count", count),
    path("plain", plain),
]


def configure(where: Where) -> None:
    """Django's settings for this process: the row's, on top of the common ones."""
    settings.configure(
        DEBUG=False,
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["django.contrib.sessions"],
        DATABASES={"default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": where.path("django.sqlite3"),
            # Django's advice for SQLite under concurrent writers (5.1+):
            # BEGIN IMMEDIATE, a longer busy timeout, write-ahead logging.
            # Persistent connections (CONN_MAX_AGE): a WAL database whose last
            # connection closes is checkpointed and synced on every request.
            "CONN_MAX_AGE": 600,
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20,
                        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
        }},
        SESSION_COOKIE_AGE=EXPIRE,
        USE_TZ=True,
        **row_settings(where),
    )
    django.setup()


def wsgi_app(where: Where):
    """The row's WSGI application (Django configured for it, once per process)."""
    from django.core.wsgi import get_wsgi_application

    if not settings.configured:
        configure(where)
    app = get_wsgi_application()
    if settings.BENCH_WRAP:
        from spysession import SessionManager
        from spysession.wsgi import SessionMiddleware

        app = SessionMiddleware(app, SessionManager(spysession_store(where), expire=EXPIRE))
    return app


def from_env():
    return wsgi_app(Where.from_env())


if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    configure(Where.from_env())
    execute_from_command_line([sys.argv[0], *sys.argv[1:]])
    os._exit(0)
