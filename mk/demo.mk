# The quick-start demo (issue 5).
.PHONY: demo
demo:
	@echo "demo: not yet"
