# coldtok
#   make          build ./coldtok (installs missing Debian packages first)
#   make check    every test: a normal build, an ASan+UBSan build, the fuzzers for a short while
#   make test     the normal build's tests only (quick)
#   make bench    the benchmarks, which print measured figures and ratios
#   make demo     the study on whatever tokenizers and models are at hand
#   make oracle   llama.cpp from npm, pinned, as a test oracle (make check installs it)

CC      ?= cc
OPT     ?= -O2 -g
CFLAGS  += $(OPT) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -fopenmp -I. -MMD -MP
LDLIBS  += -ldnnl -lcsv -lutf8proc -lonig -ljansson -lm -lpthread
BUILD   ?= build

# Debian 12 packages the build, the tests and the fuzzers need.
DEBS := build-essential pkg-config libdnnl-dev libcsv-dev libutf8proc-dev libonig-dev \
        libjansson-dev libcmocka-dev gnuplot-nox clang libclang-rt-14-dev nodejs npm
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The library holds every layer but the CLI (docs/architecture.md); cli/ links on top of it.
MODULES := common formats tokenizer model quant analysis report plots
LIBSRC  := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
CLISRC  := $(wildcard cli/*.c)
CLIOBJ  := $(CLISRC:%.c=$(BUILD)/%.o)
LIBOBJ  := $(LIBSRC:%.c=$(BUILD)/%.o)
TESTS   := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
BENCHES := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
FUZZBUILD ?= build-fuzz
FUZZERS := $(patsubst fuzz/%.c,$(FUZZBUILD)/%,$(wildcard fuzz/fuzz_*.c))

.PHONY: all deps tests test check bench demo fuzzers clean reference references
.SECONDARY:
all: coldtok

# ---- dependencies: checked once per build folder, installed with apt-get when missing ----
deps: $(BUILD)/.deps
$(BUILD)/.deps: Makefile
	@missing=$$(for p in $(DEBS); do \
	    if [ $$p = nodejs ] || [ $$p = npm ]; then command -v $${p%js} >/dev/null 2>&1 && continue; fi; \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "make: installing Debian packages:" $$missing; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi
	@mkdir -p $(@D) && touch $@

# ---- the library, the binary, tests, benchmarks ----
$(BUILD)/%.o: %.c | $(BUILD)/.deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libcoldtok.a: $(LIBOBJ)
	ar rcs $@ $^

$(BUILD)/coldtok: $(CLIOBJ) $(BUILD)/libcoldtok.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDFLAGS) $(LDLIBS)

coldtok: $(BUILD)/coldtok
	cp $< $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libcoldtok.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDFLAGS) $(LDLIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BUILD)/libcoldtok.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDFLAGS) $(LDLIBS)

# ---- reference tokenizers (npm, pinned by tests/reference/package-lock.json) and their ids ----
# `make reference` installs them; when they are there, `tests` also writes the reference ids of
# tests/data/code-snippets.jsonl into $(BUILD)/reference/ with node (tests/test_tokenizer_reference.c).
REFMOD := tests/reference/node_modules/.installed
reference: $(REFMOD)
$(REFMOD): tests/reference/package.json tests/reference/package-lock.json | $(BUILD)/.deps
	cd tests/reference && npm ci --no-audit --no-fund --loglevel=error
	touch $@
$(BUILD)/reference/.done: tests/data/code-snippets.jsonl tests/data/tiny-bytelevel-tokenizer.json \
        tests/data/tiny-spm-tokenizer.json tests/reference/encode.js $(REFMOD)
	node tests/reference/encode.js tests/data/code-snippets.jsonl $(@D)
	touch $@

# ---- small Hugging Face model folders and their plain-PyTorch logits (tests/data/hf-*) ----
# Committed, so `check` does not need PyTorch; `make references` regenerates them (python3-torch).
# hfquant_ref.py (standard library only) then packs hf-llama-f32 into the GPTQ / AWQ folders
# hf-llama-{gptq4,gptq3,gptq8,gptq2,awq4} and their dequantized F32 twins (*-deq).
references:
	/usr/bin/python3 tests/reference/torch_ref.py tests/data
	/usr/bin/python3 tests/reference/hfquant_ref.py tests/data

tests: $(BUILD)/coldtok $(TESTS) $(if $(wildcard $(REFMOD)),$(BUILD)/reference/.done)

test: tests
	tests/run.sh $(BUILD)

# ---- sanitizers and fuzzers ----
# The fuzzers share one archive of the library built with clang's sanitizers and fuzzer
# instrumentation.
FUZZFLAGS := -O1 -g -std=c11 -D_GNU_SOURCE -I. -Wall -Wextra -Werror -MMD -MP \
             -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZOBJ := $(patsubst %.c,$(FUZZBUILD)/obj/%.o,$(LIBSRC))
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

$(FUZZBUILD)/obj/%.o: %.c | $(BUILD)/.deps
	@mkdir -p $(@D)
	clang $(FUZZFLAGS) -c $< -o $@

$(FUZZBUILD)/libfuzz.a: $(FUZZOBJ)
	ar rcs $@ $^

$(FUZZBUILD)/%: fuzz/%.c $(FUZZBUILD)/libfuzz.a
	clang $(FUZZFLAGS) -fsanitize=fuzzer $< $(FUZZBUILD)/libfuzz.a -o $@ $(LDLIBS)

fuzzers: $(FUZZERS)

check: deps reference
	$(MAKE) BUILD=build tests
	$(MAKE) BUILD=build-asan OPT="$(SANFLAGS)" LDFLAGS="-fsanitize=address,undefined" tests
	$(MAKE) fuzzers
	tests/run.sh build build-asan

# `make demo`: the study on what is at hand (data/demo/demo.sh says what), into demo-out/.
demo: deps reference
	$(MAKE) BUILD=build coldtok
	data/demo/demo.sh ./coldtok demo-out

bench: deps reference
	$(MAKE) BUILD=build coldtok $(BENCHES)
	bench/run.sh build

clean:
	rm -rf build build-asan build-fuzz coldtok

# ---- llama.cpp as a test oracle (docs/testing.md "llama.cpp as an oracle") ----
# `make oracle` installs the pinned npm packages node-llama-cpp and @node-llama-cpp/linux-x64
# (tests/oracle/package-lock.json) into tests/oracle/node_modules: llama.cpp's prebuilt shared
# libraries and its source as a git bundle. Without npm or the network it says so and the oracle
# tests skip; it never fails the build. When they are installed, `tests` also builds the helper
# $(BUILD)/oracle/llama_oracle (tests/oracle/llama_oracle.c, our code) against the headers of that
# bundle, extracted into the build folder; nothing of llama.cpp is kept in the repository.
.PHONY: oracle
ORACLEMOD    := tests/oracle/node_modules/.installed
ORACLE_BUNDLE := tests/oracle/node_modules/node-llama-cpp/llama/gitRelease.bundle
ORACLE_LIB   := $(abspath tests/oracle/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64)
ORACLE_LIBS   = $(addprefix -l:,$(notdir $(wildcard $(ORACLE_LIB)/libllama.v*.so \
                    $(ORACLE_LIB)/libggml.v*.so))) -l:libggml-base.so
ORACLE_CFLAGS := -O2 -g -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE

oracle: $(ORACLEMOD)
$(ORACLEMOD): tests/oracle/package.json tests/oracle/package-lock.json | $(BUILD)/.deps
	@if ! command -v npm > /dev/null 2>&1; then \
	    echo "make oracle: npm is missing: the llama.cpp oracle tests will skip"; \
	elif (cd tests/oracle && npm ci --omit=optional --ignore-scripts --no-audit --no-fund \
	        --loglevel=error); then touch $@; \
	else echo "make oracle: npm ci failed (no network?): the llama.cpp oracle tests will skip"; fi

$(BUILD)/oracle/llama_oracle: tests/oracle/llama_oracle.c $(ORACLEMOD)
	@rm -rf $(@D)/llama.cpp.git $(@D)/llama.cpp && mkdir -p $(@D)/llama.cpp
	git clone -q --bare $(ORACLE_BUNDLE) $(@D)/llama.cpp.git
	git --git-dir=$(@D)/llama.cpp.git archive HEAD include ggml/include | tar -x -C $(@D)/llama.cpp
	rm -rf $(@D)/llama.cpp.git
	$(CC) $(ORACLE_CFLAGS) -isystem $(@D)/llama.cpp/include -isystem $(@D)/llama.cpp/ggml/include \
	    -DORACLE_LIBDIR='"$(ORACLE_LIB)"' $< -o $@ -L$(ORACLE_LIB) -Wl,-rpath,$(ORACLE_LIB) $(ORACLE_LIBS)

tests: $(if $(wildcard $(ORACLEMOD)),$(BUILD)/oracle/llama_oracle)
check: oracle

-include $(shell find $(BUILD) $(FUZZBUILD) -name '*.d' 2>/dev/null)
