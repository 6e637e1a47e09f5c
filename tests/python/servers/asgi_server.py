"""examples/asgi_app.py as the HTTP tests run it: the harness's clock,
lifetime and session path, and the counter under /app/ too."""

from __future__ import annotations

import os
from typing import Any

from file_clock import test_options
from starlette.routing import Route

from examples.asgi_app import ROUTES, create_app, index

options: dict[str, Any] = test_options()
if os.environ.get("SPYSESSION_TEST_LIFETIME"):
    options["expire"] = int(os.environ["SPYSESSION_TEST_LIFETIME"])
if os.environ.get("SPYSESSION_TEST_PATH"):
    options["path"] = os.environ["SPYSESSION_TEST_PATH"]
app = create_app([*ROUTES, Route("/app/", index)], **options)
