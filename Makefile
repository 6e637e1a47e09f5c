# spysession: the two commands a new user runs are `make demo` and `make test`.
# Everything they need is installed by the targets themselves:
#   - a local .venv (maturin, pytest, the test dependencies) for Python;
#   - Debian packages only where truly needed (valgrind), through apt-get.
# Each part of the build lives in mk/*.mk; this file only ties them together.

SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
PYTHON ?= python3
VENV := $(CURDIR)/.venv
VPY := $(VENV)/bin/python

.PHONY: help test demo check test-rust
help:
	@echo "make demo   - run the quick-start demo (Python and C sharing one LMDB store)"
	@echo "make test   - every check and test: fmt, clippy, Rust, Redis, C (valgrind), Python"
	@echo "make bench  - criterion benchmarks and the Python benchmark beside its peers"
	@echo "make fuzz   - each libFuzzer target for FUZZ_SECONDS (default 60)"
	@echo "make soak   - 100 SIGKILL rounds of durable writers, 100,000 commits from 4 processes x 4 threads (not in make test)"
	@echo "make example-c-server - target/examples/spysession-server, the threaded C HTTP server"
	@echo "make tsan-c-server - the C server and the library under ThreadSanitizer, loaded (not in make test)"
	@echo "make install PREFIX=/usr/local - header, libspysession.so/.a, spysession.pc"
	@echo "make dist   - release artifacts in dist/: wheel, sdist, C tarball, SHA256SUMS"
	@echo "make test-dist - make dist, then each artifact installed and used as a user would"

## test: every check and every test, Rust, C and Python.
test: check test-rust test-redis test-c test-c-server test-python
	@echo "make test: all green"

## check: formatting and lints, warnings are errors.
check:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## test-rust: unit, integration and doc tests of every crate.
test-rust: redis-server-installed
	$(CARGO) test --workspace
	@# The portable paths (no CLOCK_REALTIME_COARSE, no pid cache), as macOS and the BSDs build them.
	$(CARGO) test -p spysession-core --features portable --lib --test store_conformance --test session_behaviour --test faults

include $(wildcard mk/*.mk)
