"""The report of the HTTP benchmark: the table, the targets of issue 15
computed from the run, the chart, RESULTS.md with the versions."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata

from servers import HERE, ROOT

PACKAGES = ("spysession", "Flask", "Werkzeug", "Flask-Session", "cachelib", "Django", "starlette",
            "starsessions", "redis", "gunicorn", "uvicorn", "uvloop", "httptools", "itsdangerous", "msgspec")


def table(results: list[dict], pending: dict[str, str]) -> str:
    lines = [
        "| framework | backend | /visit req/s | p50 ms | p99 ms | /plain req/s | /visit ÷ /plain "
        "| keys kept of 64 | errors |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        lines.append(
            f"| {r['framework']} | {r['label']} | {r['visit_rps']:,.0f} | {r['visit_p50_ms']:.2f} "
            f"| {r['visit_p99_ms']:.2f} | {r['plain_rps']:,.0f} | {r['ratio']:.2f} | {r['kept']} "
            f"| {r['errors']} of {r['requests']:,} |"
        )
    for name, why in pending.items():
        fw, _, label = name.partition(": ")
        lines.append(f"| {fw} | {label} | {why} | | | | | | |")
    return "\n".join(lines)


TARGETS = [
    # (row, peer, bound, what)
    ("flask-spy-dbm", "flask-cookie", 0.95, "Flask: spysession DbmStore ≥ 0.95× Flask's signed cookie"),
    ("flask-spy-dbm", "flask-session-fs", 2.0, "Flask: spysession DbmStore ≥ 2× Flask-Session FileSystemCache"),
    ("flask-spy-redis", "flask-session-redis", 1.3, "Flask: spysession RedisStore ≥ 1.3× Flask-Session Redis"),
    ("django-spy-dbm", "django-db", 2.0, "Django: spysession DbmStore ≥ 2× db (SQLite)"),
    ("django-spy-dbm", "django-file", 2.0, "Django: spysession DbmStore ≥ 2× file"),
    ("django-spy-dbm", "django-signed-cookies", 0.95, "Django: spysession DbmStore ≥ 0.95× signed_cookies"),
    ("django-spy-redis", "django-cache", 1.2, "Django: spysession RedisStore ≥ 1.2× cache (RedisCache)"),
    ("asgi-spy-dbm", "asgi-cookie", 0.9, "Starlette: spysession DbmStore ≥ 0.9× SessionMiddleware (cookie)"),
    ("asgi-spy-redis", "asgi-starsessions-redis", 1.3, "Starlette: spysession RedisStore ≥ 1.3× starsessions Redis"),
]


def targets(results: list[dict]) -> str:
    """Each target of issue 15 on /visit req/s, from this run."""
    by = {r["backend"]: r for r in results}
    lines = []
    for row, peer, bound, what in TARGETS:
        if row in by and peer in by:
            x = by[row]["visit_rps"] / by[peer]["visit_rps"]
            lines.append(f"- {'PASS' if x >= bound else 'MISS'}: {what}: {x:.2f}×")
        else:
            lines.append(f"- pending: {what} (a row was not run)")
    spy = [r for r in results if "-spy-" in r["backend"]]
    short = [f"{r['framework']} {r['label']} {r['kept']}" for r in spy if r["kept"] != 64]
    if spy:
        state = "PASS" if not short else "MISS"
        lines.append(f"- {state}: lost-update test, 64 of 64 for every spysession row run ({len(spy)} rows)"
                     + (f"; short: {', '.join(short)}" if short else ""))
    return "\n".join(lines)


def chart(results: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frameworks = list(dict.fromkeys(r["framework"] for r in results))
    if not frameworks:
        return
    rows = [[r for r in results if r["framework"] == fw] for fw in frameworks]
    fig, axes = plt.subplots(len(frameworks), 1, figsize=(10, 1.2 + 0.55 * len(results) + 0.6 * len(frameworks)),
                             gridspec_kw={"height_ratios": [len(r) for r in rows]}, squeeze=False)
    top = max(max(r["visit_rps"], r["plain_rps"]) for r in results)
    for ax, fw, rs in zip(axes[:, 0], frameworks, rows):
        ys = range(len(rs))
        colors = ["tab:orange" if "-spy-" in r["backend"] else "tab:blue" for r in rs]
        ax.barh([y - 0.2 for y in ys], [r["plain_rps"] for r in rs], height=0.4, color="lightgray",
                label="/plain (no session)")
        ax.barh([y + 0.2 for y in ys], [r["visit_rps"] for r in rs], height=0.4, color=colors,
                label="/visit (session read-modify-write)")
        for y, r in zip(ys, rs):
            ax.text(r["visit_rps"], y + 0.2, f" {r['visit_rps']:,.0f} ({r['ratio']:.2f}× /plain, "
                    f"{r['kept']}/64 kept)", va="center", fontsize=8)
        ax.set_yticks(list(ys), [r["label"] for r in rs])
        ax.invert_yaxis()
        ax.set_xlim(0, top * 1.45)
        ax.set_title(fw, loc="left", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0, 0].legend(loc="lower right", fontsize=8, frameon=False)
    axes[-1, 0].set_xlabel("requests per second through a real server on loopback (higher is better)")
    fig.suptitle("spysession beside the session backends of each framework (one run, same machine)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def versions(redis_version: str) -> dict[str, str]:
    out = {"Python": f"{platform.python_implementation()} {platform.python_version()}"}
    for pkg in PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    try:
        rev = subprocess.run(["git", "-C", HERE, "describe", "--always", "--dirty"],
                             capture_output=True, text=True, check=True).stdout.strip()
        out["spysession"] = out.get("spysession", "?") + f" (built from git {rev})"
    except (OSError, subprocess.CalledProcessError):
        pass
    out["redis-server"] = redis_version
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    out["wrk"] = (wrk.stdout or wrk.stderr).split("Copyright")[0].strip()
    return out


def machine() -> str:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


def results_md(tbl: str, tgt: str, cfg, cmd: str, seconds: float, redis_version: str, now) -> str:
    vers = "\n".join(f"- {k}: {v}" for k, v in versions(redis_version).items())
    work = os.path.relpath(cfg.work_dir, ROOT)
    return f"""# HTTP benchmark: spysession through real servers, beside each framework's session backends

Written by `bench/http/run.py`; do not edit by hand, run `make bench-http`.

- Date: {now.strftime("%Y-%m-%d %H:%M %Z")}
- Command: `{cmd}` ({'quick' if cfg.quick else 'full'} run, {seconds:.0f} s)
- Machine: {machine()}; stores under {work}/ (a real disk)
{vers}

Each row: its own server on 127.0.0.1 (gunicorn 2 workers × {cfg.server_threads} gthread threads for Flask
and Django, uvicorn 2 workers for Starlette); {cfg.sessions} sessions made first by `/visit` without a
cookie; `wrk -t{cfg.wrk_threads} -c{cfg.connections}` with each request carrying one of those cookies in turn
(`bench/http/cookies.lua`); `/visit` and `/plain` alternate in {cfg.slice_s:g} s slices, {cfg.rounds} rounds
after a warm-up, medians of the rounds reported (÷ /plain: the median of each round's ratio). The
rows of one framework are measured together: all their servers are up, and each round gives every
row its two slices in turn (the order rotated each round), so the machine's drift falls on them
alike. The machine is shared: compare rows of one run only, and ratios over absolute numbers.

{tbl}

keys kept of 64: 64 concurrent `/add/k0`..`/add/k63` from one browser (one cookie; each
response's Set-Cookie applied to its jar as it arrives), then `/count` with the jar.
errors: wrk's non-2xx, socket errors and timeouts, of all requests timed.

## Targets (issue 15), /visit req/s, from this run

{tgt}

![/visit and /plain req/s per backend](results.png)

## How each backend is configured

- **spysession**: `SessionManager(store, expire=86400)`; `DbmStore(dir, durable=False|True)` or
  `RedisStore(url, prefix=...)`. Until the drop-ins are merged, Flask and Django use the WSGI middleware
  (`spysession.wsgi.SessionMiddleware`, the session in `environ["spysession"]`; for Django in place of its
  own session middleware); the Starlette rows wait for `spysession.asgi`.
- **Flask signed cookie**: Flask's default `SecureCookieSessionInterface`.
- **Flask-Session 0.8**: `SESSION_TYPE="cachelib"` with `SESSION_CACHELIB=FileSystemCache(dir,
  threshold=500)`, and `SESSION_TYPE="redis"` with `SESSION_REDIS=Redis.from_url(url)`.
- **Django**: `django.contrib.sessions` with its middleware and `SESSION_ENGINE` `db`, `cache`, `file`,
  `cached_db`, `signed_cookies`; the caches are `django.core.cache.backends.redis.RedisCache` on the shared
  redis-server; SQLite with Django's advice for concurrent writers (`transaction_mode="IMMEDIATE"`,
  `timeout=20`, WAL, `synchronous=NORMAL`) and persistent connections (`CONN_MAX_AGE=600`).
- **Starlette**: `starlette.middleware.sessions.SessionMiddleware(secret_key=...)`; starsessions 2:
  `SessionMiddleware(store=RedisStore(url))` and `SessionAutoloadMiddleware`.
- One redis-server (no persistence) on loopback for every Redis row, each row with its own key prefix.
"""
