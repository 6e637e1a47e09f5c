"""The Starlette bench app: /visit, /add/<k>, /count, /plain, with one
session middleware per row, each configured as its docs say.

    uvicorn --factory starlette_app:from_env   (BENCH_BACKEND etc., see stores.py)
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from stores import EXPIRE, SECRET, Where, count_added, spysession_store


def spysession_dropin(where: Where) -> list[Middleware]:
    """spysession's ASGI middleware: request.session is the spysession session."""
    from spysession import SessionManager
    from spysession.asgi import SessionMiddleware

    return [Middleware(SessionMiddleware, manager=SessionManager(spysession_store(where), expire=EXPIRE))]


def starlette_cookie(where: Where) -> list[Middleware]:
    """Starlette's own SessionMiddleware: a signed cookie (itsdangerous)."""
    from starlette.middleware.sessions import SessionMiddleware

    return [Middleware(SessionMiddleware, secret_key=SECRET, max_age=EXPIRE, https_only=False)]


def starsessions_redis(where: Where) -> list[Middleware]:
    """starsessions 2 with its Redis store, loaded by its autoload middleware."""
    from starsessions import SessionAutoloadMiddleware, SessionMiddleware
    from starsessions.stores.redis import RedisStore

    store = RedisStore(where.redis_url, prefix=where.prefix)
    return [
        Middleware(SessionMiddleware, store=store, lifetime=EXPIRE, cookie_https_only=False),
        Middleware(SessionAutoloadMiddleware),
    ]


BACKENDS = {
    # Pending until spysession.asgi is on main (the harness checks for it).
    "asgi-spy-dbm": spysession_dropin,
    "asgi-spy-redis": spysession_dropin,
    "asgi-cookie": starlette_cookie,
    "asgi-starsessions-redis": starsessions_redis,
}


async def visit(request):
    s = request.session
    s["counter"] = s.get("counter", 0) + 1
    return PlainTextResponse(str(s["counter"]))


async def add(request):
    request.session[request.path_params["k"]] = 1
    return PlainTextResponse("ok")


async def count(request):
    return PlainTextResponse(str(count_added(request.session.keys())))


async def plain(request):
    return PlainTextResponse("plain")


def create_app(where: Where) -> Starlette:
    routes = [
        Route("/visit", visit),
        Route("/add/{k}", add),
        Route("/count", count),
        Route("/plain", plain),
    ]
    return Starlette(routes=routes, middleware=BACKENDS[where.backend](where))


def from_env() -> Starlette:
    return create_app(Where.from_env())
