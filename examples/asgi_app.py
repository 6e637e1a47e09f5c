"""A Starlette app on spysession: visit counter, login, logout.

    SPYSESSION_STORE=/tmp/sessions uvicorn --app-dir examples asgi_app:app

FastAPI is the same: ``app.add_middleware(SessionMiddleware, manager=...)``,
then ``request.session`` in a route or a dependency.
"""

from __future__ import annotations

import os
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

import spysession
from spysession.asgi import SessionMiddleware


async def index(request: Request) -> PlainTextResponse:
    request.session["visited"] = request.session.get("visited", 0) + 1
    return PlainTextResponse(f"You visited us {request.session['visited']} times.")


async def login(request: Request) -> PlainTextResponse:
    form = await request.form()
    request.session.regenerate()  # a new id at login: no session fixation
    request.session["user"] = form["user"]
    return PlainTextResponse("welcome")


async def logout(request: Request) -> PlainTextResponse:
    request.session.invalidate()  # a slow request still running cannot undo it
    return PlainTextResponse("bye")


async def whoami(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.session.get("user", "nobody"))


async def set_key(request: Request) -> PlainTextResponse:
    form = await request.form()
    request.session[request.path_params["key"]] = form.get("value", "1")
    return PlainTextResponse("ok")


async def keys(request: Request) -> JSONResponse:
    return JSONResponse(sorted(request.session.keys()))


async def health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")  # never touches the session: no write, no cookie


async def greet(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(websocket.session.get("user", "nobody"))
    websocket.session["ws_visits"] = websocket.session.get("ws_visits", 0) + 1
    await websocket.close()


ROUTES = [
    Route("/", index),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/whoami", whoami),
    Route("/set/{key}", set_key, methods=["POST"]),
    Route("/keys", keys),
    Route("/health", health),
    WebSocketRoute("/ws", greet),
]


def create_app(routes: list[Any] = ROUTES, **options: Any) -> Starlette:
    """The app on the store of $SPYSESSION_STORE, `options` given to the SessionManager."""
    store = spysession.open_store(os.environ.get("SPYSESSION_STORE", "memory:"))
    app = Starlette(routes=routes)
    app.add_middleware(SessionMiddleware, manager=spysession.SessionManager(store, **options))
    return app


app = create_app()
