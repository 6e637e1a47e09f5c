# Python package and tests: a local .venv with maturin, pytest and
# the test dependencies; the extension built (release) and installed into it;
# pytest over tests/python. VENV, VPY and PYTHON come from the top Makefile.

# mypy for stubtest: 1.18 is the first that knows PEP 800's @disjoint_base,
# which the stubs use for the pyo3 classes.
# lmdb (py-lmdb): tests/python/test_stores.py writes a directory as
# spysession 0.1 did, to check that it is refused.
PY_TEST_DEPS := "maturin>=1.5,<2" "pytest>=7,<10" "pytest-timeout>=2,<3" "flask>=3.1,<4" "msgpack>=1,<2" \
  "mypy>=1.18,<3" "lmdb>=1.4,<2" "django>=5.2,<6" "starlette>=0.40,<1" "fastapi>=0.115,<1" "httpx>=0.27,<1" \
  "uvicorn>=0.30,<1" "gunicorn>=23,<24" "anyio>=4,<5" "python-multipart>=0.0.9,<1"
PY_DEPS_STAMP := $(VENV)/.spysession-test-deps

.PHONY: test-python python-dev python-venv

## python-venv: the local virtualenv with the build and test tools.
python-venv: $(PY_DEPS_STAMP)

$(VPY):
	@# Debian ships the venv module separately (python3-venv): install it if missing.
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV) \
	  && apt-get update && apt-get install -y python3-venv \
	  && $(PYTHON) -m venv $(VENV); }

$(PY_DEPS_STAMP): $(VPY) mk/python.mk
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet $(PY_TEST_DEPS)
	touch $@

## python-dev: build the extension (release) and install the package into .venv.
python-dev: $(PY_DEPS_STAMP)
	VIRTUAL_ENV=$(VENV) PATH="$(VENV)/bin:$$PATH" \
	  $(VENV)/bin/maturin develop --release --manifest-path python/Cargo.toml

## test-python: the pytest suite (warnings are errors, a timeout per test), then stubtest.
## The C library too: tests/python/c_client.py drives it (C reading what Python wrote).
test-python: python-dev lib
	cd tests/python && SPYSESSION_LIB=$(C_LIBDIR)/libspysession.so $(VPY) -m pytest -q
	cd tests/python && $(VPY) -m mypy.stubtest spysession --allowlist stubtest_allowlist.txt
