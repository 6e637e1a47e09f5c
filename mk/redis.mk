# RedisStore (issue 8): lints and tests with the `redis` feature, against a
# real redis-server that the tests start and stop themselves. Installs the
# Debian package redis-server when it is missing (CI runs as root).
.PHONY: test-redis
test-redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "test-redis: installing redis-server"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server >/dev/null; }
	$(CARGO) clippy -p spysession-core --features redis --all-targets -- -D warnings
	$(CARGO) test -p spysession-core --features redis
