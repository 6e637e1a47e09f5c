# Benchmarks: `make bench` runs the criterion benchmarks of the core,
# then the Python benchmark beside its peers, which rewrites bench/RESULTS.md
# and bench/results.png. Not part of `make test`: numbers come from benchmarks.
#
# The Python benchmark has its own venv (bench/.venv) with the peers from PyPI
# (bench/requirements.txt) and a release wheel of spysession. It is made from
# the system Python (BENCH_PYTHON) when that has the gdbm module, because
# Spyce's store is "Python's dbm" and a Python without _gdbm falls back to
# dbm.dumb; python3-gdbm is installed through apt-get if missing.

BENCH_PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo $(PYTHON))
BENCH_VENV := $(CURDIR)/bench/.venv
BENCH_VPY := $(BENCH_VENV)/bin/python
BENCH_WHEELS := $(CURDIR)/bench/.wheels
BENCH_DEPS_STAMP := $(BENCH_VENV)/.spysession-bench-deps
BENCH_ARGS ?=

.PHONY: bench bench-rust bench-python bench-trust bench-asgi-hops bench-venv bench-http wrk-installed

## bench: criterion (core) then the Python benchmark; updates bench/RESULTS.md and the chart.
bench: bench-rust bench-python

## bench-rust: the criterion benchmarks of the engine.
bench-rust:
	$(CARGO) bench -p spysession-core --bench engine

$(BENCH_VPY):
	@$(BENCH_PYTHON) -c 'import dbm.gnu' 2>/dev/null \
	  || { apt-get update && apt-get install -y python3-gdbm; }
	$(BENCH_PYTHON) -m venv $(BENCH_VENV) || { rm -rf $(BENCH_VENV) \
	  && apt-get update && apt-get install -y python3-venv \
	  && $(BENCH_PYTHON) -m venv $(BENCH_VENV); }

$(BENCH_DEPS_STAMP): $(BENCH_VPY) bench/requirements.txt bench/http/requirements.txt
	$(BENCH_VPY) -m pip install --quiet --upgrade pip
	$(BENCH_VPY) -m pip install --quiet -r bench/requirements.txt -r bench/http/requirements.txt
	touch $@

## bench-venv: bench/.venv with the peers and a fresh release wheel of spysession.
bench-venv: $(BENCH_DEPS_STAMP) python-venv
	rm -rf $(BENCH_WHEELS)
	$(VENV)/bin/maturin build --release --manifest-path python/Cargo.toml -o $(BENCH_WHEELS)
	$(BENCH_VPY) -m pip install --quiet --force-reinstall --no-deps $(BENCH_WHEELS)/spysession-*.whl

## bench-trust: what hashing the id and signing a pickle cost a request cycle (issue 13).
bench-trust: bench-venv
	$(BENCH_VPY) bench/trust_cost.py

## bench-asgi-hops: what a store call costs an event loop on the loop, on anyio's threads, on spysession's store threads.
bench-asgi-hops: bench-venv
	$(BENCH_VPY) bench/asgi_hops.py

## bench-python: the Python benchmark alone (BENCH_ARGS=--quick for a short run).
bench-python: bench-venv redis-server-installed
	$(BENCH_VPY) bench/python_stores.py $(BENCH_ARGS)

# The HTTP benchmark: real servers on loopback, wrk as the load;
# rewrites bench/http/RESULTS.md and bench/http/results.png. Not in `make bench`
# (it takes about 15 minutes) nor in `make test`. BENCH_HTTP_ARGS=--quick for
# a short run. The C server's rows run when `make example-c-server` exists.
BENCH_HTTP_ARGS ?=
BENCH_HTTP_C := $(if $(shell grep -ls '^example-c-server:' mk/*.mk),example-c-server)

## wrk-installed: the load generator (Debian package wrk) if missing.
wrk-installed:
	@command -v wrk >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

## bench-http: the end-to-end HTTP benchmark (BENCH_HTTP_ARGS=--quick for a short run).
# The C server row is measured on the release library, as a site would run it.
bench-http: C_PROFILE = release
bench-http: bench-venv redis-server-installed wrk-installed $(BENCH_HTTP_C)
	$(BENCH_VPY) bench/http/run.py $(BENCH_HTTP_ARGS)
