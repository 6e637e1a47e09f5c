# Release artifacts (issue 19), all in dist/ (ignored by git):
#
#   make wheel      spysession-<v>-cp311-abi3-manylinux..._2_17_<arch>.whl: one
#                   wheel for every CPython >= 3.11 (abi3), stripped, linked by
#                   zig cc against glibc 2.17 (maturin --zig, ziglang from
#                   PyPI), so pip takes it on any distribution since 2014;
#                   auditwheel show must find it manylinux_2_17, or it fails
#   make sdist      spysession-<v>.tar.gz (maturin sdist; spysession-core,
#                   the workspace's path dependency, is inside)
#   make c-tarball  spysession-<v>-<triple>.tar.gz: what `make install` puts
#                   under its prefix (header, shared and static libraries,
#                   spysession.pc made relocatable), README-C.md, the licenses
#   make dist       a clean dist/ with the three and SHA256SUMS
#   make test-dist  make dist, then tests/dist/run.sh: the wheel in a fresh
#                   venv of every CPython >= 3.11 found, the sdist built by
#                   pip outside the tree, the C tarball used through pkg-config
#
# One version for all: the workspace's (Cargo.toml); maturin and mk/c.mk read
# it from there too.

.PHONY: wheel sdist c-tarball dist test-dist dist-tools

DIST := $(CURDIR)/dist
DIST_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' $(CURDIR)/Cargo.toml | head -n 1)
DIST_TRIPLE := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
DIST_BUILD := $(CURDIR)/build/dist
DIST_C_NAME := spysession-$(DIST_VERSION)-$(DIST_TRIPLE)
DIST_SDIST := $(DIST)/spysession-$(DIST_VERSION).tar.gz
# A stripped wheel is about 1 MB; one with the release profile's line tables
# is 18 MB. Past this the strip was lost.
DIST_WHEEL_MAX_BYTES := 5000000
# zig 0.17 is the one maturin 1.16 was checked with here; auditwheel 6 knows
# the manylinux policies up to glibc 2.39.
DIST_TOOLS := "ziglang>=0.17,<0.18" "auditwheel>=6.8,<7"
DIST_TOOLS_STAMP := $(VENV)/.spysession-dist-tools

## dist-tools: ziglang and auditwheel in .venv.
dist-tools: $(DIST_TOOLS_STAMP)
# python-venv order-only: mk/python.mk is read after this file, so its
# variables are not known yet here; a new .venv has no stamp anyway.
$(DIST_TOOLS_STAMP): mk/dist.mk | python-venv
	$(VPY) -m pip install --quiet $(DIST_TOOLS)
	touch $@

## wheel: the abi3 manylinux2014 wheel, checked by auditwheel.
wheel: dist-tools
	@mkdir -p $(DIST) $(DIST_BUILD)
	rm -f $(DIST)/spysession-*.whl
	@# PATH: maturin runs zig as `python3 -m ziglang`, from the .venv.
	PATH="$(VENV)/bin:$$PATH" $(VENV)/bin/maturin build --release --strip --zig \
	  --compatibility manylinux2014 --manifest-path python/Cargo.toml -o $(DIST)
	$(VENV)/bin/auditwheel show $(DIST)/spysession-$(DIST_VERSION)-cp311-abi3-*.whl \
	  | tee $(DIST_BUILD)/auditwheel.txt
	@# auditwheel wraps its lines: join them before matching.
	@tr -s '\n' ' ' < $(DIST_BUILD)/auditwheel.txt \
	  | grep -q 'consistent with the following platform tag: "manylinux_2_17_' \
	  || { echo "wheel: auditwheel does not find the wheel manylinux_2_17 (above)"; exit 1; }
	@! grep -q 'external shared libraries are required' $(DIST_BUILD)/auditwheel.txt \
	  || { echo "wheel: it needs libraries outside the manylinux policy (above)"; exit 1; }
	@size=$$(stat -c %s $(DIST)/spysession-*.whl); echo "wheel: $$size bytes"; \
	  [ $$size -le $(DIST_WHEEL_MAX_BYTES) ] \
	  || { echo "wheel: over $(DIST_WHEEL_MAX_BYTES) bytes: not stripped?"; exit 1; }

## sdist: the source distribution, with the path dependency spysession-core.
sdist: python-venv
	@mkdir -p $(DIST)
	rm -f $(DIST_SDIST)
	$(VENV)/bin/maturin sdist --manifest-path python/Cargo.toml -o $(DIST)
	@for f in core/Cargo.toml core/src/lib.rs python/Cargo.toml Cargo.lock LICENSE-MIT LICENSE-APACHE; do \
	  tar -tzf $(DIST_SDIST) | grep -qx "spysession-$(DIST_VERSION)/$$f" \
	  || { echo "sdist: $$f is missing"; exit 1; }; done
	@echo "sdist: $$(stat -c %s $(DIST_SDIST)) bytes"

## c-tarball: the C library as `make install` lays it out, relocatable.
c-tarball:
	@mkdir -p $(DIST)
	rm -rf $(DIST_BUILD)/stage $(DIST)/$(DIST_C_NAME).tar.gz
	$(MAKE) --no-print-directory install DESTDIR=$(DIST_BUILD)/stage PREFIX=/usr/local
	rm -rf $(DIST_BUILD)/$(DIST_C_NAME)
	mv $(DIST_BUILD)/stage/usr/local $(DIST_BUILD)/$(DIST_C_NAME)
	@# Unpacked anywhere, spysession.pc finds the files beside it.
	sed -i 's|^prefix=.*|prefix=$${pcfiledir}/../..|' $(DIST_BUILD)/$(DIST_C_NAME)/lib/pkgconfig/spysession.pc
	cp LICENSE-MIT LICENSE-APACHE $(DIST_BUILD)/$(DIST_C_NAME)/
	{ printf '# spysession %s: the C library (%s)\n\n' $(DIST_VERSION) $(DIST_TRIPLE); \
	  printf '%s\n' 'Unpack it under a prefix, `tar -xzf FILE --strip-components=1 -C /usr/local`,' \
	    'or anywhere and point pkg-config at it (`spysession.pc` finds its files' \
	    'relative to itself):' '' \
	    '    PKG_CONFIG_PATH=$$DIR/lib/pkgconfig cc app.c $$(pkg-config --cflags --libs spysession) -Wl,-rpath,$$DIR/lib' \
	    '' 'Licensed under MIT or Apache-2.0, at your option (LICENSE-MIT, LICENSE-APACHE).' ''; \
	  awk '/^## /{on = ($$0 == "## C")} on' README.md; } > $(DIST_BUILD)/$(DIST_C_NAME)/README-C.md
	tar --sort=name --owner=0 --group=0 --numeric-owner -C $(DIST_BUILD) -cf - $(DIST_C_NAME) \
	  | gzip -n -9 > $(DIST)/$(DIST_C_NAME).tar.gz
	tar -tvzf $(DIST)/$(DIST_C_NAME).tar.gz

## dist: wheel, sdist and C tarball in a clean dist/, with SHA256SUMS.
dist:
	rm -rf $(DIST)
	$(MAKE) --no-print-directory wheel sdist c-tarball
	cd $(DIST) && sha256sum spysession-* > SHA256SUMS && cat SHA256SUMS

## test-dist: the artifacts installed and used as a user would (tests/dist).
test-dist: dist
	@command -v pkg-config >/dev/null || { apt-get update -qq && apt-get install -y -qq pkgconf; }
	ROOT=$(CURDIR) DIST=$(DIST) VERSION=$(DIST_VERSION) TRIPLE=$(DIST_TRIPLE) TEST_CC=$(CC) \
	  CARGO_TARGET_DIR=$(C_TARGET_DIR) tests/dist/run.sh
