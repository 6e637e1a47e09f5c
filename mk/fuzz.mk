# Fuzzing with cargo fuzz / libFuzzer (docs/reliability.md). Not part of `make test`.
#
#   make fuzz                      every target for FUZZ_SECONDS (default 60) each
#   make fuzz FUZZ_TARGETS=session_id FUZZ_SECONDS=600
#   make fuzz FUZZ_RUNS=10000000 FUZZ_SECONDS=3600
#                                  each target until 10 million executions
#                                  (or the time limit, whichever comes first)
#   make fuzz-build                build the targets only
#
# fuzz/ is a crate of its own (its own [workspace]), so the root workspace
# never builds libfuzzer-sys. cargo fuzz passes nightly-only flags
# (-Zsanitizer=address, -Cpasses=sancov-module); this machine has only a
# stable toolchain, so RUSTC_BOOTSTRAP=1 lets stable rustc accept them.
#
# Seeds live in fuzz/corpus/<target> and are only read; what libFuzzer finds
# goes to fuzz/target/corpus/<target> (ignored by git) and is reused by the
# next run. A crash, a timeout or an out-of-memory fails the run, leaves the
# input under fuzz/artifacts/<target>/ and prints how to reproduce it. Each
# target's log and executions are in fuzz/target/logs/.

.PHONY: fuzz fuzz-build fuzz-install

FUZZ_SECONDS ?= 60
FUZZ_RUNS ?=
FUZZ_TARGETS ?= cookie_header form_values session_id record_decode value_msgpack manager_begin ext_decode
FUZZ_DIR := $(CURDIR)/fuzz
FUZZ_ENV := RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$(FUZZ_DIR)/target

## fuzz-install: cargo-fuzz from crates.io, when missing.
fuzz-install:
	@$(CARGO) fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked

## fuzz-build: the fuzz targets, with AddressSanitizer.
fuzz-build: fuzz-install
	cd $(FUZZ_DIR) && $(FUZZ_ENV) $(CARGO) fuzz build

## fuzz: run every target; fails on the first crash.
fuzz: fuzz-build
	@mkdir -p $(FUZZ_DIR)/target/logs
	@set -e; cd $(FUZZ_DIR); for t in $(FUZZ_TARGETS); do \
	  mkdir -p target/corpus/$$t; start=$$(date +%s); \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s$(if $(FUZZ_RUNS), or $(FUZZ_RUNS) executions)"; \
	  if ! $(FUZZ_ENV) $(CARGO) fuzz run $$t target/corpus/$$t corpus/$$t -- \
	      -max_total_time=$(FUZZ_SECONDS) $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS)) -print_final_stats=1 \
	      >target/logs/$$t.log 2>&1; then \
	    tail -n 60 target/logs/$$t.log; \
	    echo "fuzz: $$t FAILED (full log: fuzz/target/logs/$$t.log)"; exit 1; \
	  fi; \
	  runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' target/logs/$$t.log | tail -n 1); \
	  echo "fuzz: $$t ok, $$runs executions in $$(( $$(date +%s) - start )) s, 0 crashes" \
	    | tee target/logs/$$t.summary; \
	done
	@echo "make fuzz: no crash in $(words $(FUZZ_TARGETS)) targets"
