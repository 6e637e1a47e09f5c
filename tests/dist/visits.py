"""One request of a visit counter on a DbmStore, as an installed spysession sees it.

Run as ``python visits.py STORE_DIR EXPECTED_VERSION [COOKIE_HEADER]``; it prints
``visits=N`` and, when the commit set a cookie, ``cookie=NAME=VALUE``. The dist
check runs it twice, in two processes, the second with the first's cookie: the
second process sees the first one's write only through the store on disk.

It also checks that it imported the installed package, not the source tree,
and that the installed version is the one the release was built with.
"""

import importlib.metadata
import pathlib
import sys

import spysession

store_dir, expected_version = sys.argv[1], sys.argv[2]
cookie = sys.argv[3] if len(sys.argv) > 3 else None

installed = pathlib.Path(spysession.__file__).resolve()
prefix = pathlib.Path(sys.prefix).resolve()
if prefix not in installed.parents:
    sys.exit(f"spysession imported from {installed}, not from the environment {prefix}")
for version in (spysession.__version__, importlib.metadata.version("spysession")):
    if version != expected_version:
        sys.exit(f"spysession {version} installed, {expected_version} expected")

with spysession.DbmStore(store_dir) as store:
    manager = spysession.SessionManager(store, expire=3600)
    session = manager.begin(cookie=cookie, path="/")
    session["visits"] = session.get("visits", 0) + 1
    headers = session.commit()
    print(f"visits={session['visits']}")
    for name, value in headers:
        if name == "Set-Cookie":
            print(f"cookie={value.split(';', 1)[0]}")
