# coldtok
#   make          build ./coldtok (installs missing Debian packages first)
#   make check    every test: a normal build, an ASan+UBSan build, the fuzzers for a short while
#   make test     the normal build's tests only (quick)
#   make bench    the benchmarks, which print measured figures and ratios
#   make demo     the study on whatever tokenizers and models are at hand

CC      ?= cc
OPT     ?= -O2 -g
CFLAGS  += $(OPT) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. -MMD -MP
LDLIBS  += -ldnnl -lcsv -lutf8proc -lonig -ljansson -lm -lpthread
BUILD   ?= build

# Debian 12 packages the build, the tests and the fuzzers need.
DEBS := build-essential pkg-config libdnnl-dev libcsv-dev libutf8proc-dev libonig-dev \
        libjansson-dev libcmocka-dev gnuplot-nox clang libclang-rt-14-dev nodejs npm
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

MODULES := common tokenizer model quant analyzer plots
LIBSRC  := $(filter-out analyzer/main.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
LIBOBJ  := $(LIBSRC:%.c=$(BUILD)/%.o)
TESTS   := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
BENCHES := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
FUZZBUILD ?= build-fuzz
FUZZERS := $(patsubst fuzz/%.c,$(FUZZBUILD)/%,$(wildcard fuzz/fuzz_*.c))

.PHONY: all deps tests test check bench demo fuzzers clean
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

$(BUILD)/coldtok: $(BUILD)/analyzer/main.o $(BUILD)/libcoldtok.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDFLAGS) $(LDLIBS)

coldtok: $(BUILD)/coldtok
	cp $< $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libcoldtok.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDFLAGS) $(LDLIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BUILD)/libcoldtok.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDFLAGS) $(LDLIBS)

tests: $(BUILD)/coldtok $(TESTS)

test: tests
	tests/run.sh $(BUILD)

# ---- sanitizers and fuzzers ----
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

$(FUZZBUILD)/%: fuzz/%.c $(LIBSRC) | $(BUILD)/.deps
	@mkdir -p $(@D)
	clang -O1 -g -std=c11 -D_GNU_SOURCE -I. -Wall -Wextra -Werror \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    $< $(LIBSRC) -o $@ $(LDLIBS)

fuzzers: $(FUZZERS)

check: deps
	$(MAKE) BUILD=build tests
	$(MAKE) BUILD=build-asan OPT="$(SANFLAGS)" LDFLAGS="-fsanitize=address,undefined" tests
	$(MAKE) fuzzers
	tests/run.sh build build-asan

bench: deps
	$(MAKE) BUILD=build coldtok $(BENCHES)
	bench/run.sh build

clean:
	rm -rf build build-asan build-fuzz coldtok

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
