# Soak: the crash and multi-process harnesses of core/tests at full size
# (docs/reliability.md). Not part of `make test`, which runs the same tests
# small (crash.rs: 8 rounds; multiprocess.rs: 2,400 commits).
#
#   make soak   100 rounds of 3 durable DbmStore writers SIGKILLed mid-write
#               (300 kills; every confirmed commit present and the expiry
#               index 1:1 with the records after each round), then
#               4 processes × 4 threads × 6,250 = 100,000 commits on one
#               session with a clean beside them (every commit seen by the
#               next one of its thread: 0 lost).
#
# Release build: the figures are about the engine, not debug assertions.
# Each test prints one line of figures; they are kept in target/soak.log.

.PHONY: soak

SOAK_LOG := target/soak.log
SOAK_RUN = $(CARGO) test --release -p spysession-core

## soak: the ignored soak tests (release), figures in target/soak.log.
soak:
	@mkdir -p target && : >$(SOAK_LOG)
	set -o pipefail; $(SOAK_RUN) --test crash -- --ignored --exact --nocapture \
	  soak_writers_killed_mid_write_lose_no_committed_change 2>&1 | tee -a $(SOAK_LOG)
	set -o pipefail; $(SOAK_RUN) --test multiprocess -- --ignored --exact --nocapture \
	  soak_processes_commit_to_one_dbm_store_without_losing_a_change 2>&1 | tee -a $(SOAK_LOG)
	@grep -E '^(crash|multiprocess):' $(SOAK_LOG)
