# The threaded C HTTP server of examples/c (issue 16) and its load tests.
#
#   make example-c-server  target/examples/spysession-server (libmicrohttpd)
#   make test-c-server     the load test over loopback, then the same run
#                          (shorter) with the server under valgrind
#   make tsan-c-server     the server and the library built with
#                          ThreadSanitizer, under the same load; any report
#                          fails it (not in `make test`: see docs/reliability.md)
#
# The load test is tests/c/server_load.py (Python standard library only): it
# starts the server with --port 0, reads the port from its first line (the
# socket is listening by then, so nothing sleeps), and checks every count.

.PHONY: example-c-server test-c-server tsan-c-server microhttpd-installed

SERVER_BIN = $(C_TARGET_DIR)/examples/spysession-server
SERVER_SRC := examples/c/server.c
SERVER_CFLAGS = $(C_FLAGS) -pthread -Iinclude $$(pkg-config --cflags libmicrohttpd)
SERVER_LOAD := $(PYTHON) tests/c/server_load.py

microhttpd-installed:
	@pkg-config --exists libmicrohttpd 2>/dev/null || { \
	  echo "microhttpd-installed: installing libmicrohttpd-dev"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libmicrohttpd-dev pkg-config >/dev/null; }

## example-c-server: the server, linked statically against libspysession.a
## (libmicrohttpd dynamically, as Debian ships it).
example-c-server: lib microhttpd-installed
	@mkdir -p $(dir $(SERVER_BIN))
	$(CC) $(SERVER_CFLAGS) -o $(SERVER_BIN) $(SERVER_SRC) \
		$(C_LIBDIR)/libspysession.a $$(pkg-config --libs libmicrohttpd) $(C_STATIC_LIBS)

## test-c-server: the full load on an LMDB store and on a Redis store, then a
## short run under valgrind (memcheck: any error or definite leak fails).
test-c-server: example-c-server valgrind-installed redis-server-installed
	$(SERVER_LOAD) --server $(SERVER_BIN) --store dbm
	$(SERVER_LOAD) --server $(SERVER_BIN) --store redis
	$(SERVER_LOAD) --server $(SERVER_BIN) --store dbm --short \
		--wrap "valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --quiet"

# ThreadSanitizer: the library (and LMDB's C code) instrumented by rustc and
# cc, the server by gcc, linked with rustc's TSan runtime (gcc 12's libtsan
# lacks the __tsan_memcpy that rustc's LLVM emits). Without the rust-src
# component std itself is not instrumented (no -Zbuild-std), hence the one
# std suppression in tests/c/tsan.supp; with it, build-std is used.
TSAN_TRIPLE := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
TSAN_SYSROOT := $(shell rustc --print sysroot 2>/dev/null)
TSAN_BUILD_STD := $(if $(wildcard $(TSAN_SYSROOT)/lib/rustlib/src/rust/library),-Zbuild-std,)
TSAN_DIR = $(C_TARGET_DIR)/tsan
TSAN_BIN = $(TSAN_DIR)/examples/spysession-server
TSAN_OPTS = exitcode=66 halt_on_error=0 suppressions=$(CURDIR)/tests/c/tsan.supp

## tsan-c-server: the load test (LMDB and Redis) on the TSan build; a report
## not in tests/c/tsan.supp fails it.
tsan-c-server: microhttpd-installed redis-server-installed
	RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$(TSAN_DIR) \
	  RUSTFLAGS="-Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer" \
	  CFLAGS_$(subst -,_,$(TSAN_TRIPLE))="-fsanitize=thread -g -O1" \
	  $(CARGO) build -p spysession-ffi --target $(TSAN_TRIPLE) $(TSAN_BUILD_STD)
	@mkdir -p $(dir $(TSAN_BIN))
	$(CC) $(C_FLAGS) -O1 -fsanitize=thread -pthread -Iinclude $$(pkg-config --cflags libmicrohttpd) \
	  -c -o $(TSAN_DIR)/server.o examples/c/server.c
	$(CC) -pthread -o $(TSAN_BIN) $(TSAN_DIR)/server.o \
	  $(TSAN_DIR)/$(TSAN_TRIPLE)/debug/libspysession.a \
	  -Wl,--whole-archive $(TSAN_SYSROOT)/lib/rustlib/$(TSAN_TRIPLE)/lib/librustc-stable_rt.tsan.a \
	  -Wl,--no-whole-archive $$(pkg-config --libs libmicrohttpd) $(C_STATIC_LIBS) -lstdc++
	TSAN_OPTIONS="$(TSAN_OPTS)" $(SERVER_LOAD) --server $(TSAN_BIN) --store dbm
	TSAN_OPTIONS="$(TSAN_OPTS)" $(SERVER_LOAD) --server $(TSAN_BIN) --store redis
