#!/usr/bin/env python3
"""Load test of spysession-server (examples/c/server.c) over loopback.

Standard library only. Starts the server (optionally under a wrapper such as
valgrind) with --port 0 and reads the port from its first line, printed once
the socket listens, so nothing waits on a timer. Then:

1. the lost-update test over HTTP: one session, 64 requests at once from its
   cookie, each setting its own key; /count must then show every key;
2. many sessions, their keys set in a shuffled order by several client
   threads at once (requests of one session run concurrently on different
   connections), then every session's count checked, the visit counter read
   again, half of them logged out and each checked gone (no resurrection)
   while the other half keep every key;
3. bad requests (unknown route, bad key, POST) get 4xx and the server lives;
4. with --store redis: Redis stopped under the server gives 500 with a log
   line, never a crash, and the server works again once Redis is back.

Finally SIGTERM: the server (and the wrapper: valgrind's --error-exitcode)
must exit 0. Prints the figures (requests, sessions, keys kept, rate).
"""

import argparse
import http.client
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

TIMEOUT = 120  # seconds one HTTP exchange may take (valgrind is slow)


class Failure(Exception):
    """A check of the load test failed."""


def check(cond, what):
    if not cond:
        raise Failure(what)


class Client:
    """One keep-alive connection to the server; counts requests."""

    count = 0
    lock = threading.Lock()

    def __init__(self, port):
        self.port = port
        self.conn = None

    def get(self, path, cookie=None, method="GET"):
        """Returns (status, body, set_cookie or None)."""
        headers = {"Cookie": cookie} if cookie else {}
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
            try:
                self.conn.request(method, path, headers=headers)
                resp = self.conn.getresponse()
                body = resp.read().decode()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect
                # once (the request was not processed: nothing was answered).
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        with Client.lock:
            Client.count += 1
        if resp.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return resp.status, body, resp.getheader("Set-Cookie")

    def close(self):
        if self.conn is not None:
            self.conn.close()


def cookie_of(set_cookie):
    """The `name=value` pair of a Set-Cookie header value."""
    check(set_cookie is not None, "expected a Set-Cookie")
    return set_cookie.split(";", 1)[0].strip()


def start_redis(tmp):
    """A redis-server on a unix socket in tmp; returns (process, url)."""
    sock = os.path.join(tmp, "redis.sock")
    proc = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no"],
        stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:  # its log: ready once it says so
        if "ready to accept connections" in line.lower():
            break
    else:
        raise Failure("redis-server did not start")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # drain
    return proc, "unix://" + sock


def start_server(args, store_url, stderr):
    cmd = shlex.split(args.wrap) + [args.server, "--port", "0", "--store", store_url,
                                    "--threads", str(args.threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True)
    line = proc.stdout.readline()
    m = re.match(r"listening on http://127\.0\.0\.1:(\d+)/", line)
    if not m:
        proc.kill()
        raise Failure(f"server did not start: {line!r} (stderr: {stderr.name})")
    return proc, int(m.group(1))


def lost_update(port, n):
    """n requests at once from one cookie, each its own key: all kept."""
    c = Client(port)
    status, body, set_cookie = c.get("/")
    check(status == 200 and body == "You visited us 1 times.\n", f"first visit: {status} {body!r}")
    cookie = cookie_of(set_cookie)
    clients = [Client(port) for _ in range(n)]
    start = threading.Barrier(n)

    def add(i):
        start.wait()
        return clients[i].get(f"/add/k{i}", cookie)[0]

    with ThreadPoolExecutor(n) as pool:
        statuses = list(pool.map(add, range(n)))
    check(statuses == [200] * n, f"concurrent adds: {statuses}")
    status, body, _ = c.get("/count", cookie)
    kept = int(body)
    check(status == 200 and kept == n + 1, f"lost update: {kept - 1} of {n} keys kept")
    for x in clients + [c]:
        x.close()
    return n


def load(port, sessions, keys, clients):
    """Many sessions, keys set concurrently from several threads; returns keys kept."""
    local = threading.local()

    def client():
        if not hasattr(local, "c"):
            local.c = Client(port)
            opened.append(local.c)
        return local.c

    opened = []
    with ThreadPoolExecutor(clients) as pool:
        def create(_):
            status, body, set_cookie = client().get("/")
            check(status == 200 and body == "You visited us 1 times.\n", f"create: {body!r}")
            return cookie_of(set_cookie)
        cookies = list(pool.map(create, range(sessions)))
        check(len(set(cookies)) == sessions, "every new session has its own id")

        tasks = [(s, k) for s in range(sessions) for k in range(keys)]
        random.Random(16).shuffle(tasks)

        def add(task):
            s, k = task
            status, body, _ = client().get(f"/add/key{k}", cookies[s])
            check(status == 200, f"add: {status} {body!r}")
        list(pool.map(add, tasks))

        def verify(s):
            status, body, _ = client().get("/count", cookies[s])
            check(status == 200 and int(body) == keys + 1,
                  f"session {s}: count {body.strip()}, want {keys + 1}")
            status, body, _ = client().get("/", cookies[s])
            check(body == "You visited us 2 times.\n", f"session {s}: second visit {body!r}")
        list(pool.map(verify, range(sessions)))

        gone = range(0, sessions, 2)

        def logout(s):
            status, _, set_cookie = client().get("/logout", cookies[s])
            check(status == 200 and set_cookie is not None and "Max-Age=0" in set_cookie,
                  f"logout {s}: {status} {set_cookie!r}")
        list(pool.map(logout, gone))

        def after(s):
            status, body, set_cookie = client().get("/count", cookies[s])
            if s % 2 == 0:  # logged out: the old cookie names nothing
                check(status == 200 and body == "0\n" and set_cookie is None,
                      f"session {s} after logout: {body!r} {set_cookie!r}")
            else:
                check(int(body) == keys + 1, f"session {s} lost keys: {body!r}")
        list(pool.map(after, range(sessions)))
    for c in opened:
        c.close()
    return (sessions - len(gone)) * (keys + 1)


def bad_requests(port):
    c = Client(port)
    check(c.get("/nope")[0] == 404, "unknown route is 404")
    check(c.get("/add/")[0] == 404, "empty key is 404")
    check(c.get("/add/%ff")[0] == 400, "a key that is not UTF-8 is 400")
    check(c.get("/count", method="POST")[0] == 405, "POST is 405")
    check(c.get("/count", cookie="spysession=" + "z" * 5000)[1] == "0\n", "a junk cookie is no session")
    status, body, set_cookie = c.get("/plain")
    check(status == 200 and body == "plain\n" and set_cookie is None, f"/plain has no session: {body!r}")
    status, body, set_cookie = c.get("/visit")
    check(status == 200 and body.startswith("You visited us 1 times") and set_cookie,
          f"/visit counts like /: {body!r}")
    c.close()


def redis_outage(port, redis, tmp, stderr_path):
    """Redis stopped: 500 and a log line, no crash; back again: works."""
    c = Client(port)
    _, _, set_cookie = c.get("/add/before")
    cookie = cookie_of(set_cookie)
    redis.terminate()
    redis.wait()
    for _ in range(2):  # twice: the first error did not break the server
        status, body, _ = c.get("/add/during", cookie)
        check(status == 500 and body == "session store error\n", f"redis down: {status} {body!r}")
    with open(stderr_path) as f:
        log = f.read()
    check(re.search(r"spysession-server: /add/during: \w[^:]*: .+ \(SPS_IO\)", log),
          f"no log line for the store error in: {log[-500:]!r}")
    redis, _ = start_redis(tmp)
    status, body, _ = c.get("/", None)
    check(status == 200 and body == "You visited us 1 times.\n", f"after redis is back: {body!r}")
    c.close()
    return redis


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--server", required=True)
    p.add_argument("--store", choices=["dbm", "redis", "memory"], default="dbm")
    p.add_argument("--short", action="store_true", help="a small run (for valgrind)")
    p.add_argument("--wrap", default="", help="command to run the server under")
    p.add_argument("--threads", type=int, default=4, help="server threads")
    p.add_argument("--clients", type=int, default=8, help="client threads")
    args = p.parse_args()
    sessions, keys, concurrent = (100, 4, 64) if args.short else (400, 8, 64)

    tmp = tempfile.mkdtemp(prefix="sps-server-")
    redis = server = None
    stderr_path = os.path.join(tmp, "server.stderr")
    ok = False
    try:
        if args.store == "redis":
            redis, url = start_redis(tmp)
        elif args.store == "dbm":
            # Both forms of a DbmStore URL: a bare directory, or (short) dbm://.
            path = os.path.join(tmp, "store")
            url = f"dbm://{path}" if args.short else path
        else:
            url = "memory:"
        with open(stderr_path, "w") as stderr:
            server, port = start_server(args, url, stderr)
        t0 = time.monotonic()
        lost = lost_update(port, concurrent)
        kept = load(port, sessions, keys, args.clients)
        seconds = time.monotonic() - t0
        requests = Client.count
        bad_requests(port)
        if redis is not None:
            redis = redis_outage(port, redis, tmp, stderr_path)
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=TIMEOUT)
        server = None
        with open(stderr_path) as f:
            log = f.read()
        check(code == 0, f"server exit status {code}; stderr:\n{log[-3000:]}")
        print(f"server load ({args.store}{', ' + args.wrap.split()[0] if args.wrap else ''}): "
              f"{concurrent} concurrent adds on one session, all kept; {sessions} sessions x "
              f"{keys} keys from {args.clients} client threads on {args.threads} server threads; "
              f"{requests} requests in {seconds:.1f} s ({requests / seconds:.0f} req/s); "
              f"{kept} keys kept after {sessions // 2} logouts; exit 0")
        ok = True
    except Failure as e:
        print(f"server load FAILED: {e}", file=sys.stderr)
        with open(stderr_path) as f:
            sys.stderr.write(f.read()[-3000:])
    finally:
        if server is not None:
            server.kill()
            server.wait()
        if redis is not None:
            redis.terminate()
            redis.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
