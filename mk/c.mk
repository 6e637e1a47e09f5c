# C library, header check, C tests, install and the C example (issue 3).
#
#   make lib        build libspysession.so and .a (C_PROFILE=debug|release)
#   make header     regenerate include/spysession.h with the pinned cbindgen
#   make test-c     every tests/c program, shared and static, under valgrind,
#                   plus an install into a temporary prefix used via pkg-config
#   make install    PREFIX=/usr/local: header, .so, .a and spysession.pc
#   make example-c  build/visits, the CGI visit counter of examples/c
#
# The header's staleness check is a Rust test (ffi/tests/header.rs), so it
# runs in `cargo test --workspace` (make test-rust) too.

.PHONY: lib header test-c install example-c valgrind-installed

C_PROFILE ?= debug
C_CARGO_FLAGS = $(if $(filter release,$(C_PROFILE)),--release,)
C_TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
C_LIBDIR = $(C_TARGET_DIR)/$(C_PROFILE)
C_BUILD := $(CURDIR)/build/c
C_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' $(CURDIR)/Cargo.toml | head -n 1)
# The SONAME follows the major version (ffi/build.rs sets the same one).
C_SONAME = libspysession.so.$(firstword $(subst ., ,$(C_VERSION)))
C_SO_REAL = libspysession.so.$(C_VERSION)
C_FLAGS := -Wall -Wextra -Werror -std=c11 -O2 -g
C_STATIC_LIBS := -lpthread -ldl -lm -lrt -lutil
PREFIX ?= /usr/local

## lib: the C libraries, in $(C_LIBDIR), with the SONAME link that programs
## linked against that directory load.
lib:
	$(CARGO) build -p spysession-ffi $(C_CARGO_FLAGS)
	@ln -sf libspysession.so $(C_LIBDIR)/$(C_SONAME)

## header: rewrite include/spysession.h from ffi/src (then commit it).
header:
	UPDATE_HEADER=1 $(CARGO) test -p spysession-ffi --test header -- committed_header_is_up_to_date

## install: PREFIX (default /usr/local; DESTDIR honoured). Release build
## unless C_PROFILE is given. The shared library is installed stripped under
## its full version, with the SONAME link (.so.MAJOR, what programs load) and
## the development link (.so, what -lspysession finds); the static library
## loses its debug sections only (its symbols are what a link needs).
install: C_PROFILE = release
install: lib
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/spysession.h $(DESTDIR)$(PREFIX)/include/spysession.h
	install -m 755 $(C_LIBDIR)/libspysession.so $(DESTDIR)$(PREFIX)/lib/$(C_SO_REAL)
	strip --strip-unneeded $(DESTDIR)$(PREFIX)/lib/$(C_SO_REAL)
	ln -sf $(C_SO_REAL) $(DESTDIR)$(PREFIX)/lib/$(C_SONAME)
	ln -sf $(C_SONAME) $(DESTDIR)$(PREFIX)/lib/libspysession.so
	install -m 644 $(C_LIBDIR)/libspysession.a $(DESTDIR)$(PREFIX)/lib/libspysession.a
	strip --strip-debug $(DESTDIR)$(PREFIX)/lib/libspysession.a
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(C_VERSION)|' ffi/spysession.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/spysession.pc

valgrind-installed:
	@command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }

## test-c: build the library, install it into a temporary prefix, run the C tests.
test-c: lib valgrind-installed example-c
	@rm -rf $(C_BUILD)/prefix
	@$(MAKE) --no-print-directory install PREFIX=$(C_BUILD)/prefix C_PROFILE=$(C_PROFILE) >/dev/null
	LIBDIR=$(C_LIBDIR) OUT=$(C_BUILD) INSTALLED=$(C_BUILD)/prefix VISITS=$(CURDIR)/build/visits \
		VERSION=$(C_VERSION) CC=$(CC) tests/c/run.sh

## example-c: the CGI visit counter, linked statically (a self-contained binary).
example-c: lib
	@mkdir -p $(CURDIR)/build
	$(CC) $(C_FLAGS) -Iinclude -o $(CURDIR)/build/visits examples/c/visits.c \
		$(C_LIBDIR)/libspysession.a $(C_STATIC_LIBS)
