"""The README's Python examples run as written (paths moved to a temporary
directory), and do what the README says they do."""

from __future__ import annotations

import pathlib
import re
import wsgiref.util

import spysession

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def readme_namespace(tmp_path) -> dict:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 3, "the README lost its Python examples"
    namespace: dict = {"__name__": "readme"}
    for block in blocks:
        code = block.replace("/var/lib/mysite/sessions", str(tmp_path / "sessions"))
        exec(compile(code, str(README), "exec"), namespace)
    return namespace


def call_page(page, cookie=None):
    environ: dict = {"PATH_INFO": "/myapp"}
    wsgiref.util.setup_testing_defaults(environ)
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, headers

    body = b"".join(page(environ, start_response)).decode()
    cookies = [v.split(";")[0] for k, v in seen["headers"] if k == "Set-Cookie"]
    return body, (cookies[0] if cookies else cookie)


def test_readme_examples_run_and_count_visits(tmp_path):
    ns = readme_namespace(tmp_path)
    try:
        body, cookie = call_page(ns["page"])
        assert body == "You visited us 1 times."
        body, cookie = call_page(ns["page"], cookie)
        assert body == "You visited us 2 times."

        client = ns["app"].test_client()
        assert client.get("/").get_data(as_text=True) == "You visited us 1 times."
        assert client.get("/").get_data(as_text=True) == "You visited us 2 times."

        # The config-file recipe set the site-wide store; clean_store() cleans it.
        assert spysession.clean_store() == 0
    finally:
        ns["handle"].cancel()
        ns["store"].close()


class Cart:
    def __init__(self, items):
        self.items = items


def test_readme_pickle_example_stores_objects_and_the_default_refuses_them(tmp_path):
    namespace = readme_namespace(tmp_path)
    s = namespace["pickling"].begin()
    s["cart"] = Cart(["book"])
    (_, header), = s.commit()
    loaded = namespace["pickling"].begin(cookie=header.split(";")[0])
    assert loaded["cart"].items == ["book"]
    try:
        namespace["manager"].begin()["cart"] = Cart([])
    except TypeError as e:
        assert "Cart" in str(e)
    else:
        raise AssertionError("the default manager stored an object without pickle=True")
