#!/usr/bin/env python3
"""Profile one row of the HTTP benchmark: its server under wrk load on /visit,
py-spy sampling one gunicorn worker, then the functions that took the samples.

    bench/.venv/bin/python bench/http/profile_row.py flask-spy-dbm [--seconds 10]

Writes bench/http/.work/prof/<row>/raw.txt (py-spy's collapsed stacks: feed
it to a flame-graph tool) and prints the top functions, self and inclusive.
py-spy needs ptrace rights on the worker (root, or CAP_SYS_PTRACE).
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import time

import load
import servers


def summary(raw: str, top: int) -> str:
    total, own, incl = 0, collections.Counter(), collections.Counter()
    with open(raw) as f:
        for line in f:
            stack, _, n = line.rstrip().rpartition(" ")
            if not n.isdigit():  # a frame's text broken over lines
                continue
            frames = stack.split(";")
            total += int(n)
            own[frames[-1]] += int(n)
            for fr in set(frames):
                incl[fr] += int(n)
    out = [f"{total} samples; self:"]
    out += [f"{n / total:6.1%} {fr}" for fr, n in own.most_common(top)]
    out.append("inclusive:")
    out += [f"{n / total:6.1%} {fr}" for fr, n in incl.most_common(top * 3)]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("backend", help="a row's backend key, e.g. flask-spy-dbm, django-db")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--top", type=int, default=15)
    cfg = ap.parse_args()
    wd = os.path.join(servers.HERE, ".work", "prof", cfg.backend)
    os.makedirs(wd, exist_ok=True)
    redis = servers.Redis(wd)
    env = {"BENCH_BACKEND": cfg.backend, "BENCH_DIR": wd, "BENCH_REDIS_URL": redis.url,
           "BENCH_PREFIX": f"prof:{cfg.backend}:"}
    app = "django_app" if cfg.backend.startswith("django") else "flask_app"
    try:
        with open(os.path.join(wd, "server.log"), "w") as log:
            proc, port = servers.start("gunicorn", app, env, None, 4, log)
        try:
            cookies_file = os.path.join(wd, "cookies.txt")
            with open(cookies_file, "w") as f:
                f.write("\n".join(load.make_sessions(port, 300)) + "\n")
            worker = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True,
                                    check=True).stdout.split()[0]
            wrk = subprocess.Popen(["wrk", "-t2", "-c16", f"-d{cfg.seconds + 4}s", "-s", load.LUA,
                                    f"http://127.0.0.1:{port}/visit"],
                                   env={**os.environ, "BENCH_COOKIES": cookies_file}, stdout=subprocess.DEVNULL)
            time.sleep(2)
            raw = os.path.join(wd, "raw.txt")
            subprocess.run([os.path.join(os.path.dirname(sys.executable), "py-spy"), "record", "-p", worker,
                            "-d", str(cfg.seconds), "-r", "200", "--format", "raw", "-o", raw, "--nonblocking"],
                           check=True, capture_output=True)
            wrk.wait()
        finally:
            servers.stop(proc)
    finally:
        redis.close()
    print(summary(raw, cfg.top))


if __name__ == "__main__":
    main()
