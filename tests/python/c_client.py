"""A C program's side of a session, through libspysession (the C library)
driven by ctypes: what a C server does with sps_session_set_msgpack and
sps_session_get_msgpack, on a DbmStore directory.

Run as its own process (``python c_client.py ...``): a process must open an
LMDB directory once, and the Python module and the C library are two
copies of the engine. Commands:

    plant DIR KEY HEX      new session, KEY = the MessagePack value HEX, commit;
                           prints the cookie (name=value)
    get DIR COOKIE KEY     prints the MessagePack of KEY as hex, or "missing"

The library is $SPYSESSION_LIB, else target/debug or target/release of this
checkout (`make lib` builds it; `make test-python` does so first).
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

c_size = ctypes.c_size_t
c_ptr = ctypes.c_void_p


class Buf(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_uint8)), ("len", c_size)]


class Request(ctypes.Structure):
    _fields_ = [("cookie", ctypes.c_char_p), ("cookie_len", c_size),
                ("query", ctypes.c_char_p), ("query_len", c_size),
                ("form", ctypes.c_char_p), ("form_len", c_size),
                ("path", ctypes.c_char_p), ("path_len", c_size)]


def library_path() -> str:
    if os.environ.get("SPYSESSION_LIB"):
        return os.environ["SPYSESSION_LIB"]
    root = Path(__file__).resolve().parents[2]
    for profile in ("debug", "release"):
        candidate = root / "target" / profile / "libspysession.so"
        if candidate.exists():
            return str(candidate)
    raise SystemExit("libspysession.so not found: run `make lib` or set SPYSESSION_LIB")


def load():
    lib = ctypes.CDLL(library_path())
    sig = {
        "sps_store_open_dbm": [ctypes.c_char_p, c_size, c_ptr, ctypes.POINTER(c_ptr)],
        "sps_manager_new": [c_ptr, c_ptr, ctypes.POINTER(c_ptr)],
        "sps_session_begin": [c_ptr, ctypes.POINTER(Request), ctypes.POINTER(c_ptr)],
        "sps_session_set_msgpack": [c_ptr, ctypes.c_char_p, c_size, ctypes.c_char_p, c_size],
        "sps_session_get_msgpack": [c_ptr, ctypes.c_char_p, c_size, ctypes.POINTER(Buf)],
        "sps_session_commit": [c_ptr, ctypes.POINTER(Buf)],
    }
    for name, args in sig.items():
        getattr(lib, name).argtypes = args
        getattr(lib, name).restype = ctypes.c_uint32
    for name in ("sps_store_free", "sps_manager_free", "sps_session_free"):
        getattr(lib, name).argtypes = [c_ptr]
        getattr(lib, name).restype = None
    lib.sps_buf_free.argtypes = [ctypes.POINTER(Buf)]
    lib.sps_buf_free.restype = None
    lib.sps_last_error.argtypes = []
    lib.sps_last_error.restype = ctypes.c_char_p
    return lib


def check(lib, status: int, what: str) -> None:
    if status != 0:
        raise SystemExit(f"{what}: status {status}: {lib.sps_last_error()!r}")


def begin(lib, directory: str, cookie: bytes | None):
    store, manager, session = c_ptr(), c_ptr(), c_ptr()
    path = directory.encode()
    check(lib, lib.sps_store_open_dbm(path, len(path), None, ctypes.byref(store)), "open")
    check(lib, lib.sps_manager_new(store, None, ctypes.byref(manager)), "manager")
    lib.sps_store_free(store)
    request = Request(cookie, len(cookie or b""), None, 0, None, 0, b"/", 1)
    check(lib, lib.sps_session_begin(manager, ctypes.byref(request), ctypes.byref(session)), "begin")
    lib.sps_manager_free(manager)
    return session


def main(argv: list[str]) -> None:
    lib = load()
    command, directory = argv[1], argv[2]
    if command == "plant":
        key, value = argv[3].encode(), bytes.fromhex(argv[4])
        session = begin(lib, directory, None)
        check(lib, lib.sps_session_set_msgpack(session, key, len(key), value, len(value)), "set")
        cookie = Buf()
        check(lib, lib.sps_session_commit(session, ctypes.byref(cookie)), "commit")
        print(ctypes.string_at(cookie.data, cookie.len).decode().split(";", 1)[0])
        lib.sps_buf_free(ctypes.byref(cookie))
    elif command == "get":
        key = argv[4].encode()
        session = begin(lib, directory, argv[3].encode())
        out = Buf()
        status = lib.sps_session_get_msgpack(session, key, len(key), ctypes.byref(out))
        if status == 1:  # SPS_NOT_FOUND
            print("missing")
        else:
            check(lib, status, "get")
            print(ctypes.string_at(out.data, out.len).hex())
            lib.sps_buf_free(ctypes.byref(out))
    else:
        raise SystemExit(f"unknown command {command}")
    lib.sps_session_free(session)


if __name__ == "__main__":
    main(sys.argv)
