#!/usr/bin/env python3
"""What a store call costs an event loop, by where it runs: on the loop, on an
anyio worker thread (what the ASGI middleware did before its store threads),
or on spysession's store threads (what it does now for calls that wait).

    bench/.venv/bin/python bench/asgi_hops.py [--rounds 7] [--calls 2000]

Each call is a returning request's begin and commit on a DbmStore without
sync (the store call itself is a few µs, so what is measured is the hop),
16 at a time as a loaded server would have them. The three contenders run
in turn within each round; each reports CPU µs of this process per call
(the loop's and the threads' together) and wall µs per call; the medians of
the rounds are printed, with each hop's ratio to the loop.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

import anyio.to_thread

import spysession
from spysession._loop_store_calls import LoopStoreCalls

CONCURRENT = 16


def contenders(manager: spysession.SessionManager, cookie: bytes):
    async def on_loop():
        s = manager.begin(cookie=cookie)
        s["n"] = s.get("n", 0) + 1
        s.commit()

    async def anyio_threads():
        s = await anyio.to_thread.run_sync(lambda: manager.begin(cookie=cookie))
        s["n"] = s.get("n", 0) + 1
        await anyio.to_thread.run_sync(s.commit)

    store_calls: dict = {}

    async def store_threads():
        calls = LoopStoreCalls.of(store_calls, CONCURRENT)
        s = await calls.begin(manager, cookie, None, "/")
        s["n"] = s.get("n", 0) + 1
        await calls.commit(s)

    return {"on the loop": on_loop, "anyio worker thread": anyio_threads, "spysession store threads": store_threads}


async def timed(call, n: int) -> tuple[float, float]:
    """CPU and wall µs per call of `n` calls, CONCURRENT at a time."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(n // CONCURRENT):
        await asyncio.gather(*(call() for _ in range(CONCURRENT)))
    done = n // CONCURRENT * CONCURRENT
    return (time.process_time() - cpu0) / done * 1e6, (time.perf_counter() - wall0) / done * 1e6


async def main(rounds: int, calls: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        manager = spysession.SessionManager(spysession.DbmStore(d + "/s", durable=False))
        first = manager.begin()
        first["n"] = 0
        cookie = first.commit()[0][1].split(";")[0].encode()
        runs = contenders(manager, cookie)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for name, call in runs.items():  # warm up: threads started, caches filled
            await timed(call, calls // 4)
        for r in range(rounds):
            names = list(runs)
            names = names[r % len(names):] + names[: r % len(names)]  # rotate the order
            for name in names:
                results[name].append(await timed(runs[name], calls))
    base_cpu = statistics.median(c for c, _ in results["on the loop"])
    print(f"{rounds} rounds of {calls} calls, {CONCURRENT} at a time; medians:")
    print(f"| where the store call runs | CPU µs/call | wall µs/call | CPU ÷ on the loop |")
    print("|---|--:|--:|--:|")
    for name, rs in results.items():
        cpu = statistics.median(c for c, _ in rs)
        wall = statistics.median(w for _, w in rs)
        print(f"| {name} | {cpu:.1f} | {wall:.1f} | {cpu / base_cpu:.2f} |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=2000)
    cfg = ap.parse_args()
    asyncio.run(main(cfg.rounds, cfg.calls))
