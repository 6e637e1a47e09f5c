# RedisStore (issue 8): lints and tests with the features `redis` and
# `redis-tls`, against real redis-servers (plain, unix socket, TLS) that the
# tests start and stop themselves. Installs the Debian packages redis-server
# and openssl (the TLS tests make their certificates with it) when missing;
# CI runs as root.
.PHONY: test-redis
test-redis:
	@command -v redis-server >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1 || { \
	  echo "test-redis: installing redis-server and openssl"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server openssl >/dev/null; }
	$(CARGO) clippy -p spysession-core --features redis --all-targets -- -D warnings
	$(CARGO) clippy -p spysession-core --features redis-tls --all-targets -- -D warnings
	$(CARGO) test -p spysession-core --features redis-tls
