# RedisStore: lints and tests with the features `redis` and
# `redis-tls`, against real redis-servers (plain, unix socket, TLS) that the
# tests start and stop themselves.
#
# redis-server-installed installs the Debian packages redis-server and
# openssl (the TLS tests make their certificates with it) when missing; CI
# runs as root. Every target whose tests start a redis-server depends on it:
# test-redis; test-rust, since the C library and the Python module build the
# core with the feature `redis` and cargo unifies features across the
# workspace, so `cargo test --workspace` runs core/tests/redis_*.rs too;
# test-c (tests/c/test_redis.c) and test-python (tests/python/test_redis.py).
.PHONY: test-redis redis-server-installed
redis-server-installed:
	@command -v redis-server >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1 || { \
	  echo "redis-server-installed: installing redis-server and openssl"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server openssl >/dev/null; }

test-c test-python: redis-server-installed

test-redis: redis-server-installed
	$(CARGO) clippy -p spysession-core --features redis --all-targets -- -D warnings
	$(CARGO) clippy -p spysession-core --features redis-tls --all-targets -- -D warnings
	$(CARGO) test -p spysession-core --features redis-tls
