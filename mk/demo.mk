# The quick-start demo: a Spyce-style page counting visits through
# Python, then through the C example, on one LMDB store in ./demo-data.
# It builds what it needs (the Python extension into .venv, the C example).

DEMO_STORE := $(CURDIR)/demo-data/sessions

.PHONY: demo
demo: python-dev example-c
	$(VPY) examples/demo.py $(DEMO_STORE) $(CURDIR)/build/visits
