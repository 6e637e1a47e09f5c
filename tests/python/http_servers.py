"""Real HTTP servers for the framework tests: gunicorn or uvicorn started on
a free 127.0.0.1 port in a child process, a cookie-keeping client, and the
file clock the servers read."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process; ``url`` is its base URL."""

    def __init__(self, kind: str, app: str, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        pythonpath = os.pathsep.join([str(HERE / "servers"), str(REPO)])
        if kind == "gunicorn":
            args = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
                    "--threads", "8", "--worker-class", "gthread", "--graceful-timeout", "1",
                    "--pythonpath", pythonpath, app]
        else:
            args = [str(BIN / "uvicorn"), "--host", "127.0.0.1", "--port", str(self.port),
                    "--workers", "1", "--app-dir", str(HERE / "servers"), app]
        full_env = {**os.environ, **env, "PYTHONPATH": pythonpath}
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(args, env=full_env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                pass
            if self.process.poll() is not None:
                raise AssertionError(f"{kind} exited at start:\n{log.read_text()}")
            assert time.monotonic() < deadline, f"{kind} did not start:\n{log.read_text()}"
            time.sleep(0.05)

    def client(self) -> httpx.Client:
        """A client that keeps cookies, like a browser."""
        return httpx.Client(base_url=self.url, timeout=30)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def set_cookies(response: httpx.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


def cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


class ClockFile:
    """The test's side of servers/file_clock.FileClock."""

    def __init__(self, path: Path, now: float = 1_000_000.0) -> None:
        self.path = path
        self.now = now
        self._write()

    def _write(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(repr(self.now))
        tmp.replace(self.path)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self._write()


def log_path(tmp: Path, name: str) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    return tmp / f"{name}.log"
