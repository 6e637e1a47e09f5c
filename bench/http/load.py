"""The load of the HTTP benchmark: the pre-made sessions, the wrk slices,
and the lost-update test (64 concurrent requests from one browser)."""

from __future__ import annotations

import re
import http.client
import json
import os
import subprocess
import threading

from servers import HERE

LUA = os.path.join(HERE, "cookies.lua")


def cookie_of(resp: http.client.HTTPResponse, jar: dict[str, str]) -> dict[str, str]:
    """A browser's cookie jar after a response: each Set-Cookie's name=value."""
    jar = dict(jar)
    for header in resp.headers.get_all("Set-Cookie") or []:
        name, _, value = header.split(";", 1)[0].strip().partition("=")
        if "max-age=0" in header.lower() or value in ('""', ""):
            jar.pop(name, None)
        else:
            jar[name] = value
    return jar


def header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def get(conn: http.client.HTTPConnection, path: str, jar: dict[str, str]) -> tuple[int, str, dict[str, str]]:
    conn.request("GET", path, headers={"Cookie": header(jar)} if jar else {})
    resp = conn.getresponse()
    body = resp.read().decode()
    return resp.status, body, cookie_of(resp, jar)


def make_sessions(port: int, n: int) -> list[str]:
    """n sessions made by /visit without a cookie; their Cookie headers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out = []
    for _ in range(n):
        status, _body, jar = get(conn, "/visit", {})
        if status != 200 or not jar:
            raise RuntimeError(f"/visit without a cookie: status {status}, cookies {jar}")
        out.append(header(jar))
    conn.close()
    return out


def check_counter(port: int) -> None:
    """A browser that keeps its cookies sees /visit count 1, 2, 3."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    jar: dict[str, str] = {}
    for want in (1, 2, 3):
        status, body, jar = get(conn, "/visit", jar)
        # The apps answer the count alone; the C server, "You visited us N times.".
        if status != 200 or re.findall(r"\d+", body)[:1] != [str(want)]:
            raise RuntimeError(f"/visit #{want}: status {status}, body {body!r}")
    conn.close()


def wrk(port: int, path: str, seconds: float, cookies_file: str, threads: int, connections: int) -> dict:
    """One wrk slice on path; req/s, p50/p99 in ms and the error counts."""
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
           "-s", LUA, f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         env={**os.environ, "BENCH_COOKIES": cookies_file}).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("BENCH_JSON "))
    r = json.loads(line[len("BENCH_JSON "):])
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return {
        "rps": r["requests"] / (r["duration_us"] / 1e6),
        "p50_ms": r["p50_us"] / 1e3,
        "p99_ms": r["p99_us"] / 1e3,
        "requests": r["requests"],
        "errors": errors,
    }


def lost_update(port: int, n: int = 64) -> int:
    """n concurrent /add/k<i> from one browser (one cookie jar, each response's
    Set-Cookie applied as it arrives), then /count: how many keys it holds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    status, _body, jar = get(conn, "/visit", {})
    conn.close()
    if status != 200:
        raise RuntimeError(f"/visit: status {status}")
    start = threading.Barrier(n)
    lock = threading.Lock()
    state = {"jar": jar, "failed": 0}
    sent = dict(jar)

    def one(i: int) -> None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.connect()
        start.wait()
        try:
            st, _b, new = get(c, f"/add/k{i}", sent)
            with lock:
                if st != 200:
                    state["failed"] += 1
                # The browser's jar: this response's cookies over the jar's.
                state["jar"] = {**state["jar"], **{k: v for k, v in new.items() if sent.get(k) != v}}
        except OSError:
            with lock:
                state["failed"] += 1
        finally:
            c.close()

    workers = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    status, body, _ = get(conn, "/count", state["jar"])
    conn.close()
    if status != 200:
        raise RuntimeError(f"/count: status {status}")
    return int(body.strip())
