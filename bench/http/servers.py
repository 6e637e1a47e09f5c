"""The processes of the HTTP benchmark: one redis-server for every Redis row,
and each row's web server (gunicorn, uvicorn or the C server) on loopback."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
C_SERVER = os.path.join(ROOT, "target", "examples", "spysession-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(port: int, proc: subprocess.Popen, path: str = "/plain", timeout: float = 60) -> None:
    """Until the server answers path with a 200 (or exits, or timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server on port {port} did not answer {path} in {timeout} s")
        time.sleep(0.1)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (its workers too), then SIGKILL."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


class Redis:
    """One redis-server on a free loopback port, no persistence."""

    def __init__(self, workdir: str):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", workdir],
            stdout=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def version(self) -> str:
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
        return out.split("v=")[1].split()[0] if "v=" in out else out.strip()

    def close(self) -> None:
        stop(self.proc)


def command(server: str, app: str, port: int, store_url: str | None, threads: int) -> list[str]:
    """The command line of a row's server."""
    bind = f"127.0.0.1:{port}"
    if server == "gunicorn":
        return [sys.executable, "-m", "gunicorn", "--chdir", HERE, "--workers", "2",
                "--worker-class", "gthread", "--threads", str(threads), "--bind", bind,
                "--log-level", "warning", f"{app}:from_env()"]
    if server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", "--app-dir", HERE, "--factory", f"{app}:from_env",
                "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
                "--no-access-log", "--log-level", "warning"]
    if server == "c":
        return [C_SERVER, "--port", str(port), "--store", store_url or ""]
    raise ValueError(server)


def start(server: str, app: str, env: dict[str, str], store_url: str | None, threads: int, log):
    """Start a row's server; returns (process, port) once it answers /plain."""
    port = free_port()
    proc = subprocess.Popen(command(server, app, port, store_url, threads), env={**os.environ, **env},
                            cwd=HERE, stdout=log, stderr=log, start_new_session=True)
    try:
        wait_http(port, proc)
    except BaseException:
        stop(proc)
        raise
    return proc, port
