"""The report of the Python benchmark: the markdown table, the targets of
issue 6 computed from the run, the chart, and the versions and machine."""

from __future__ import annotations

import dbm
import os
import platform
import subprocess
from importlib import metadata

import lmdb

from backends import (
    HERE,
    CachelibSimple,
    DictFloor,
    LmdbNosync,
    LmdbSync,
    SpyDbmDurable,
    SpyDbmNosync,
    SpyMemory,
)

# -- report


def fmt_us(us):
    return f"{us:,.2f}" if us < 100 else f"{us:,.0f}"


def fmt_ops(us):
    ops = 1e6 / us
    return f"{ops / 1e3:,.0f}k" if ops >= 10_000 else f"{ops:,.0f}"


def table(results):
    lines = [
        "| backend | new µs/op | new ops/s | returning µs/op | returning ops/s "
        "| read-only µs/op | read-only ops/s | clean ms | bytes/session |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, r in results.items():
        if r["bytes"] is not None:
            by = f"{r['bytes']:,.0f}"
        elif r["same_files_as"]:
            by = f"= {r['same_files_as'].split()[-1]}"
        else:
            by = "in memory"
        cells = [name]
        for c in ("new", "returning", "read_only"):
            cells += [fmt_us(r[c]), fmt_ops(r[c])]
        if r["clean_ms"] is None:  # an app row: cycles only
            cells += ["–", "–"]
        else:
            cells += [f"{r['clean_ms']:,.1f}" + (" †" if r["clean_scaled"] > 1 else ""), by]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(results):
    R = results
    mem, floor, simple = R[SpyMemory.name], R[DictFloor.name], R[CachelibSimple.name]
    dbm_ns, lmdb_ns = R[SpyDbmNosync.name], R[LmdbNosync.name]
    dbm_d, lmdb_s = R[SpyDbmDurable.name], R[LmdbSync.name]
    checks = [
        ("MemoryStore returning ≤ 2.5× dict floor", mem["returning"] / floor["returning"], "×", "≤", 2.5),
        ("MemoryStore returning ≥ 3× faster than cachelib SimpleCache",
         simple["returning"] / mem["returning"], "× faster", "≥", 3.0),
        ("DbmStore nosync returning faster than py-lmdb nosync",
         lmdb_ns["returning"] / dbm_ns["returning"], "× faster", ">", 1.0),
        ("DbmStore nosync read-only no slower than py-lmdb nosync",
         dbm_ns["read_only"] / lmdb_ns["read_only"], "× its time", "≤", 1.0),
        ("DbmStore nosync clean ≤ ½ py-lmdb nosync full scan",
         dbm_ns["clean_ms"] / lmdb_ns["clean_ms"], "× its time", "≤", 0.5),
        ("DbmStore durable clean ≤ ½ py-lmdb sync full scan",
         dbm_d["clean_ms"] / lmdb_s["clean_ms"], "× its time", "≤", 0.5),
        ("DbmStore bytes/session ≤ 250", dbm_ns["bytes"], " bytes", "≤", 250),
    ]
    ops = {"≤": float.__le__, "≥": float.__ge__, ">": float.__gt__}
    lines = []
    for what, value, unit, op, bound in checks:
        ok = ops[op](float(value), float(bound))
        shown = f"{value:,.0f}" if unit == " bytes" else f"{value:.2f}"
        lines.append(f"- {'PASS' if ok else 'MISS'}: {what}: {shown}{unit} (target {op} {bound})")
    return "\n".join(lines)


def chart(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    cycles = [("new", "new"), ("returning", "returning"), ("read_only", "read-only")]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(14, 2 + 0.3 * len(names)), gridspec_kw={"width_ratios": [3, 1.4]})
    h = 0.27
    for i, (key, label) in enumerate(cycles):
        ys = [j + (i - 1) * h for j in range(len(names))]
        ax.barh(ys, [results[n][key] for n in names], height=h, label=label)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("µs per request cycle (log scale, lower is better)")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, frameon=False)
    ax.grid(axis="x", which="both", alpha=0.3)
    ax2.barh(range(len(names)), [results[n]["clean_ms"] or float("nan") for n in names], color="tab:gray")
    ax2.set_yticks(range(len(names)), [""] * len(names))
    ax2.invert_yaxis()
    ax2.set_xscale("log")
    ax2.set_xlabel("ms to clean, half expired (log scale)")
    ax2.grid(axis="x", which="both", alpha=0.3)
    fig.suptitle("spysession from Python beside its peers (one run, same machine)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def versions():
    out = {"Python": f"{platform.python_implementation()} {platform.python_version()}"}
    for pkg in ("spysession", "Beaker", "cachelib", "lmdb", "matplotlib", "Flask", "Flask-Session", "Django"):
        out[pkg] = metadata.version(pkg)
    try:
        rev = subprocess.run(["git", "-C", HERE, "describe", "--always", "--dirty"],
                             capture_output=True, text=True, check=True).stdout.strip()
        out["spysession"] += f" (built from git {rev})"
    except (OSError, subprocess.CalledProcessError):
        pass
    out["lmdb"] += f" (LMDB {'.'.join(map(str, lmdb.version()))})"
    for name in dbm._names:  # the module dbm.open() picks
        try:
            __import__(name)
            out["dbm"] = name
            break
        except ImportError:
            pass
    return out


def machine():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"
