# C library, header check and C tests: owned by the C ABI work (issue 3).
.PHONY: test-c
test-c:
	@echo "test-c: not yet"
