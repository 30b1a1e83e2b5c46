# aiguard: threat protection for stored LLM conversations (PGXS build)

EXTENSION = aiguard
EXTVERSION = $(shell grep default_version aiguard.control | sed -e "s/.*'\(.*\)'.*/\1/")

CORE_SRCS = $(wildcard src/core/*.c)
CORE_OBJS = $(CORE_SRCS:.c=.o)
PG_SRCS = $(wildcard src/pg/*.c)
PG_OBJS = $(PG_SRCS:.c=.o)

MODULE_big = aiguard
OBJS = $(CORE_OBJS) $(PG_OBJS)
# Upgrades (upgrade/README.md): upgrade/aiguard--*.sql are frozen scripts of
# earlier releases, installed as they are; the step from the previous
# release is its hand-written schema changes followed by this build's
# alert types, built-in rules and model.
PREVIOUS_VERSION = 0.1.0
DATA = $(wildcard upgrade/aiguard--*.sql)
DATA_built = aiguard--$(EXTVERSION).sql aiguard--$(PREVIOUS_VERSION)--$(EXTVERSION).sql
EXTRA_CLEAN = $(TOOLS) test/core/test_core test/core/test_url test/core/test_core_scalar test/core/test_url_scalar schema/rules.sql tmp_check_iso output_iso

PG_CPPFLAGS = -Isrc/core -DPCRE2_CODE_UNIT_WIDTH=8 -DAIGUARD_VERSION='"$(EXTVERSION)"'
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers
SHLIB_LINK = -lpcre2-8 -lutf8proc -lm

REGRESS = install catalog scan smuggling rules protect rescan reference leakage credentials pii network security wallet access phishing
REGRESS_OPTS = --inputdir=. --load-extension=plpgsql

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# A PostgreSQL built with OpenSSL links libcrypto already: src/pg/ag_digest.c
# then calls it directly (a digest fetched once, not per message).
ifneq ($(shell grep -c '^\#define USE_OPENSSL 1' $(shell $(PG_CONFIG) --includedir-server)/pg_config.h),0)
SHLIB_LINK += -lcrypto
endif

# PGXS does not track headers: rebuild objects when any header changes.
$(OBJS): $(wildcard src/core/*.h src/pg/*.h)

# The core is plain C99 (declarations where they are used), not server code.
$(CORE_OBJS): CFLAGS += -Wno-declaration-after-statement

# Stand-alone tools and tests of the core: no PostgreSQL involved.
TOOL_CC ?= cc
TOOL_CFLAGS ?= -O2 -g -Wall -Wextra -ffp-contract=off -D_GNU_SOURCE -Isrc/core -Itools
TOOL_LIBS = -lpcre2-8 -lutf8proc -lm
TOOL_COMMON = tools/ag_jsonl.c tools/ag_corpus.c tools/ag_load_rules.c
TOOLS = tools/ag_rulegen tools/ag_train tools/ag_train_url tools/ag_scan tools/ag_findings bench/bench_quality bench/bench_offcorpus

tools/ag_rulegen: tools/ag_rulegen.c $(CORE_SRCS) $(TOOL_COMMON) src/core/*.h
	$(TOOL_CC) $(TOOL_CFLAGS) -o $@ $< $(CORE_SRCS) $(TOOL_COMMON) $(TOOL_LIBS)
tools/ag_train: tools/ag_train.c tools/ag_shuffle.h $(CORE_SRCS) $(TOOL_COMMON) src/core/*.h
	$(TOOL_CC) $(TOOL_CFLAGS) -o $@ $< $(CORE_SRCS) $(TOOL_COMMON) $(TOOL_LIBS)
tools/ag_train_url: tools/ag_train_url.c tools/ag_shuffle.h $(CORE_SRCS) $(TOOL_COMMON) src/core/*.h
	$(TOOL_CC) $(TOOL_CFLAGS) -o $@ $< $(CORE_SRCS) $(TOOL_COMMON) $(TOOL_LIBS)
bench/bench_quality: bench/bench_quality.c $(CORE_SRCS) $(TOOL_COMMON) src/core/*.h
	$(TOOL_CC) $(TOOL_CFLAGS) -o $@ $< $(CORE_SRCS) $(TOOL_COMMON) $(TOOL_LIBS)
bench/bench_offcorpus: bench/bench_offcorpus.c $(CORE_SRCS) $(TOOL_COMMON) src/core/*.h
	$(TOOL_CC) $(TOOL_CFLAGS) -o $@ $< $(CORE_SRCS) $(TOOL_COMMON) $(TOOL_LIBS)
test/core/test_core: test/core/test_core.c test/core/ag_test.h test/core/ref_normalize.c test/core/ref_model.c test/core/ref_gate.c $(CORE_SRCS) $(TOOL_COMMON) src/core/*.h
	$(TOOL_CC) $(TOOL_CFLAGS) -o $@ $< test/core/ref_normalize.c test/core/ref_model.c test/core/ref_gate.c $(CORE_SRCS) $(TOOL_COMMON) $(TOOL_LIBS)
test/core/test_url: test/core/test_url.c test/core/ag_test.h $(CORE_SRCS) src/core/*.h
	$(TOOL_CC) $(TOOL_CFLAGS) -o $@ $< $(CORE_SRCS) $(TOOL_LIBS)
# The same unit tests with the portable code paths (no SSE2 fast paths).
test/core/test_core_scalar: test/core/test_core.c test/core/ag_test.h test/core/ref_normalize.c test/core/ref_model.c test/core/ref_gate.c $(CORE_SRCS) $(TOOL_COMMON) src/core/*.h
	$(TOOL_CC) $(TOOL_CFLAGS) -U__SSE2__ -o $@ $< test/core/ref_normalize.c test/core/ref_model.c test/core/ref_gate.c $(CORE_SRCS) $(TOOL_COMMON) $(TOOL_LIBS)
test/core/test_url_scalar: test/core/test_url.c test/core/ag_test.h $(CORE_SRCS) src/core/*.h
	$(TOOL_CC) $(TOOL_CFLAGS) -U__SSE2__ -o $@ $< $(CORE_SRCS) $(TOOL_LIBS)

RULE_FILES = $(sort $(wildcard rules/*.rules))
SCHEMA_FILES = schema/tables.sql schema/alert_types.sql schema/functions.sql schema/worker.sql schema/indicators.sql schema/window_detectors.sql schema/views.sql

# The shipped rule files and model, for a preloaded postmaster to compile
# once for every session (src/pg/ag_preload.c): SHAREDIR/extension/aiguard/.
RULES_INSTALL_DIR = $(DESTDIR)$(datadir)/extension/aiguard
install: install-rule-files
install-rule-files: $(RULE_FILES) rules/jailbreak.model
	$(MKDIR_P) '$(RULES_INSTALL_DIR)'
	rm -f '$(RULES_INSTALL_DIR)'/*.rules '$(RULES_INSTALL_DIR)'/*.model
	$(INSTALL_DATA) $(RULE_FILES) rules/jailbreak.model '$(RULES_INSTALL_DIR)/'
uninstall: uninstall-rule-files
uninstall-rule-files:
	rm -rf '$(RULES_INSTALL_DIR)'
.PHONY: install-rule-files uninstall-rule-files

schema/rules.sql: tools/ag_rulegen $(RULE_FILES) rules/jailbreak.model
	tools/ag_rulegen --sql rules/jailbreak.model $(RULE_FILES) > $@.tmp && mv $@.tmp $@

# the library knows which catalog version it was built for (ag_catalog.c)
src/pg/ag_catalog.o: aiguard.control

aiguard--$(EXTVERSION).sql: $(SCHEMA_FILES) schema/rules.sql
	cat $(SCHEMA_FILES) schema/rules.sql > $@

aiguard--$(PREVIOUS_VERSION)--$(EXTVERSION).sql: upgrade/$(PREVIOUS_VERSION)--$(EXTVERSION).sql schema/alert_types.sql schema/rules.sql
	cat $^ > $@

# TAP tests (PostgreSQL::Test::Cluster): the worker, async and block modes
# on clusters of their own.  initdb refuses root: run as an ordinary user.
PROVE_TESTS = test/t/*.pl
PROVE_FLAGS = -I test/perl
check-tap:
	$(prove_installcheck)

# Isolation tests (pg_isolation_regress): sessions racing each other over
# the scan queue and the wallet detector.  Async mode needs the library
# preloaded and the worker on the test database, so they run on a
# temporary instance of their own (test/isolation/isolation.conf), never
# on the server installcheck uses.  initdb refuses root, as for check-tap.
ISOLATION_TESTS = async_queue wallet_race list_reload
# the database the specs run in: aiguard.database in isolation.conf
ISOLATION_DB = isolation_regression
ISOLATION_PORT ?= 5511
check-isolation:
	rm -rf tmp_check_iso output_iso
	$(pgxsdir)/src/test/isolation/pg_isolation_regress \
		--temp-instance=tmp_check_iso --temp-config=test/isolation/isolation.conf \
		--bindir=$(bindir) --port=$(ISOLATION_PORT) --no-locale --encoding=UTF8 \
		--inputdir=test/isolation --outputdir=output_iso \
		--dbname=$(ISOLATION_DB) --load-extension=aiguard $(ISOLATION_TESTS)

.PHONY: check-tap check-isolation

CORPUS ?= ../shared/corpus

# Core unit tests and every rule's own examples, without a server.  Each
# test program ends with "N passed, M failed"; the last line printed is
# their sum (what dev.sh reads), a program that crashes counting as a failure.
check-core: test/core/test_core test/core/test_url test/core/test_core_scalar test/core/test_url_scalar
	@{ AIGUARD_CORPUS=$(wildcard $(CORPUS)) test/core/test_core rules/jailbreak.model $(RULE_FILES); \
	   echo "exit status $$?"; test/core/test_url; echo "exit status $$?"; \
	   echo "portable code paths (no SSE2):"; \
	   AIGUARD_CORPUS=$(wildcard $(CORPUS)) test/core/test_core_scalar rules/jailbreak.model $(RULE_FILES); \
	   echo "exit status $$?"; test/core/test_url_scalar; echo "exit status $$?"; } | awk ' \
	  /^[0-9]+ passed, [0-9]+ failed$$/ { p += $$1; f += $$3; last = $$3; seen = 1; print "  " $$0; next } \
	  /^exit status [0-9]+$$/ { if ($$3 != 0 && (!seen || last == 0)) { f++; print "FAIL a test program exited with status " $$3 } \
	                            seen = 0; last = 0; next } \
	  { print } \
	  END { printf "%d passed, %d failed\n", p, f; exit f > 0 }'

# Benign code and markup pieces from this machine's files (half of them;
# the other half is bench/bench_offcorpus.sh's check), see
# tools/negatives/debian_code.sh.
CODE_NEGATIVES ?= /tmp/aiguard-code-negatives.txt
code-negatives:
	tools/negatives/debian_code.sh train > $(CODE_NEGATIVES)

# Hand-written probes the rules were already written from, or written to be
# trained on (bench/probes/README.md); the sets kept unread stay out of
# training, to measure.
PROBES_TRAIN = --positives bench/probes/attacks_a.txt --positives bench/probes/attacks_b.txt \
	--positives bench/probes/attacks_counterfactual.txt --positives bench/probes/attacks_nov27.txt \
	--positives bench/probes/attacks_f.txt --positives bench/probes/tool_attacks_f.txt \
	--positives bench/probes/tool_attacks_h.txt --positives bench/probes/tool_attacks_j.txt \
	--positives bench/probes/attacks_m.txt --hard-negatives bench/probes/benign_m.txt \
	--positives bench/probes/attacks_o.txt --hard-negatives bench/probes/benign_o.txt \
	--hard-negatives bench/probes/benign_a.txt --hard-negatives bench/probes/benign_counterfactual.txt \
	--hard-negatives bench/probes/benign_nov27.txt --hard-negatives bench/probes/benign_f.txt \
	--hard-negatives bench/probes/tool_benign_f.txt --hard-negatives bench/probes/tool_benign_h.txt \
	--hard-negatives bench/probes/tool_benign_j.txt \
	--positives bench/probes/tool_attacks_r.txt --hard-negatives bench/probes/tool_benign_r.txt

# The technical negatives (manual-page prose in other languages) at full
# weight since the probes in other languages are trained on (at 0.5 those
# probes pushed 31 -> 49 of 1,986 lines of Debian's texts over the threshold).
TRAIN_OPTS = --technical-weight 1.0

train-model: tools/ag_train code-negatives
	tools/ag_train $(CORPUS) rules/jailbreak.model --folds 5 --code-negatives $(CODE_NEGATIVES) $(TRAIN_OPTS) $(PROBES_TRAIN)

# The phishing URL model (src/core/ag_url_model.c): its weights are C
# source, written here; rebuild and commit them.  At most 2% of any benign
# source flagged out of fold decides its threshold (tools/ag_train_url.c).
URL_TRAIN_OPTS = --benign tools/negatives/benign_urls_train.txt \
	--sanity tools/negatives/benign_urls_sanity.txt --target-fpr 0.02
train-url-model: tools/ag_train_url
	tools/ag_train_url $(CORPUS) src/core/ag_url_model_data.c $(URL_TRAIN_OPTS)

# Honest figures: the models' part comes from 5-fold cross-validation.
bench-quality: bench/bench_quality bench/bench_offcorpus tools/ag_train tools/ag_train_url code-negatives
	tools/ag_train $(CORPUS) /tmp/aiguard-cv.model --folds 5 --oof-out /tmp/aiguard-oof.txt --code-negatives $(CODE_NEGATIVES) $(TRAIN_OPTS) $(PROBES_TRAIN) > /tmp/aiguard-train.log
	tools/ag_train_url $(CORPUS) /tmp/aiguard-cv-url.c --oof-out /tmp/aiguard-url-oof.txt $(URL_TRAIN_OPTS) > /tmp/aiguard-train-url.log
	bench/bench_quality --oof /tmp/aiguard-oof.txt --url-oof /tmp/aiguard-url-oof.txt $(CORPUS) rules/jailbreak.model $(RULE_FILES)
	@echo; echo "Off the corpus: code, markup and prose files of this machine (the shipped model)"
	bench/bench_offcorpus.sh

# The same with the shipped model, in-sample on the data it was trained on.
bench-quality-insample: bench/bench_quality
	bench/bench_quality $(CORPUS) rules/jailbreak.model $(RULE_FILES)

.PHONY: check-core code-negatives train-model train-url-model bench-quality bench-quality-insample

tools/ag_findings: tools/ag_findings.c $(CORE_SRCS) $(TOOL_COMMON) src/core/*.h
	$(TOOL_CC) $(TOOL_CFLAGS) -o $@ $< $(CORE_SRCS) $(TOOL_COMMON) $(TOOL_LIBS)

# Behaviour-preserving changes (speed-ups): dump every finding of the corpus
# before the change (findings-baseline), then compare after it.
FINDINGS_BASELINE ?= /tmp/aiguard-findings.baseline
findings-baseline: tools/ag_findings
	tools/ag_findings $(CORPUS) rules/jailbreak.model $(RULE_FILES) > $(FINDINGS_BASELINE)
check-findings-stable: tools/ag_findings
	tools/ag_findings $(CORPUS) rules/jailbreak.model $(RULE_FILES) > $(FINDINGS_BASELINE).new
	cmp $(FINDINGS_BASELINE) $(FINDINGS_BASELINE).new && echo "findings identical: `wc -l < $(FINDINGS_BASELINE)` lines"

.PHONY: findings-baseline check-findings-stable

tools/ag_scan: tools/ag_scan.c $(CORE_SRCS) $(TOOL_COMMON) src/core/*.h
	$(TOOL_CC) $(TOOL_CFLAGS) -o $@ $< $(CORE_SRCS) $(TOOL_COMMON) $(TOOL_LIBS)

FUZZ_SECONDS ?= 60
fuzz/fuzz_scan: fuzz/fuzz_scan.c $(CORE_SRCS) $(TOOL_COMMON) src/core/*.h
	clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -DAG_CHECK_SUBJECTS -Isrc/core -Itools -o $@ $< $(CORE_SRCS) $(TOOL_COMMON) $(TOOL_LIBS)
# seeds: every rule example (its \n as line breaks) under each role's
# first byte ('0' to '3': the target takes the role from byte 0 mod 4)
fuzz/seeds: $(RULE_FILES)
	rm -rf $@ && mkdir -p $@
	sed -n 's/^\(no\)\{0,1\}match *= //p' $(RULE_FILES) | \
		awk '{ gsub(/\\n/, "\n"); for (r = 0; r < 4; r++) { f = sprintf("$@/%d_%d", NR, r); printf "%d%s", r, $$0 > f; close(f) } }'
fuzz: fuzz/fuzz_scan fuzz/seeds
	mkdir -p fuzz/corpus
	fuzz/fuzz_scan -max_total_time=$(FUZZ_SECONDS) -max_len=4096 fuzz/corpus fuzz/seeds

# for the test suite: the same inputs every time (a fixed seed and count),
# from the rules' examples, in a corpus of its own that is thrown away
FUZZ_SMOKE_RUNS ?= 20000
fuzz-smoke: fuzz/fuzz_scan fuzz/seeds
	rm -rf fuzz/smoke && mkdir -p fuzz/smoke
	fuzz/fuzz_scan -seed=1 -runs=$(FUZZ_SMOKE_RUNS) -max_len=4096 fuzz/smoke fuzz/seeds
	rm -rf fuzz/smoke

.PHONY: fuzz fuzz-smoke

bench/bench_speed: bench/bench_speed.c $(CORE_SRCS) $(TOOL_COMMON) src/core/*.h
	$(TOOL_CC) $(TOOL_CFLAGS) -O3 -o $@ $< $(CORE_SRCS) $(TOOL_COMMON) $(TOOL_LIBS)
bench-speed: bench/bench_speed
	bench/bench_speed $(CORPUS) rules/jailbreak.model $(RULE_FILES)

bench/bench_cache: bench/bench_cache.c $(CORE_SRCS) $(TOOL_COMMON) src/core/*.h
	$(TOOL_CC) $(TOOL_CFLAGS) -O3 -o $@ $< $(CORE_SRCS) $(TOOL_COMMON) $(TOOL_LIBS)
bench-cache: bench/bench_cache
	CORPUS=$(CORPUS) bench/bench_cache.sh

.PHONY: bench-speed bench-cache
