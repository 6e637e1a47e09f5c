# Python package and tests: owned by the Python work (issue 4).
.PHONY: test-python
test-python:
	@echo "test-python: not yet"
