# agent-init — build, test, demo, bench.
#
#   make          build/agent-init (static musl, stripped); installs deps
#   make demo     run agent-init as PID 1 in a fresh namespace
#   make test     lint + unit (gcc & clang, ASan/UBSan) + integration
#   make bench    benchmarks against tini, dumb-init, catatonit
#   make e2e      real containers under a private dockerd (tests/e2e)
#   make image-scratch-demo   build images/scratch-demo (no registry)
#   make soak     the soak tests at full size (make test runs them smaller)
#   make fuzz     every libFuzzer target for FUZZ_SECONDS (default 60) each
#   make sanitize integration scenarios under ASan+UBSan and valgrind
#   make deps     install Debian packages and build the static libraries
#
# Everything fetched or built lands under build/ and is reused.

VERSION := 0.1.0

BUILD := build
DEPS := $(BUILD)/deps
PREFIX := $(DEPS)/prefix
KH := $(DEPS)/kernel-headers
# The libraries' versions reach --version through a header that the deps
# build writes ($(PREFIX)/include/agent-init-deps.h), never through make
# variables read when this file is parsed: on a first run the deps do not
# exist yet at that moment (a fresh clone's `make demo` used to build a
# binary that printed "libcap-ng , inih )").
DEPS_STAMP := $(PREFIX)/include/agent-init-deps.h

BIN := $(BUILD)/agent-init
SRC_DIRS := core supervisor netcheck init
SRCS := $(wildcard $(addsuffix /*.c,$(SRC_DIRS)))
HDRS := $(wildcard $(addsuffix /*.h,$(SRC_DIRS)))
INCS := $(addprefix -I,$(SRC_DIRS))

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
DEFS := -D_GNU_SOURCE -DAGENT_INIT_VERSION='"$(VERSION)"'

# The shipped binary: small first.  -Os with section GC drops whatever of
# libseccomp we do not call; no unwind tables in C without exceptions.
MUSL_CFLAGS := -std=gnu11 -Os $(WARN) $(DEFS) $(INCS) \
	-ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
	-fno-unwind-tables -fstack-protector-strong \
	-isystem $(KH) -I$(PREFIX)/include
MUSL_LDFLAGS := -static -s -Wl,--gc-sections -Wl,-z,noexecstack \
	-L$(PREFIX)/lib
LIBS := -lseccomp -lcap-ng -linih

HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPERS := $(patsubst tests/helpers/%.c,$(BUILD)/helpers/%,$(HELPER_SRCS))

# The glibc builds (unit tests, ASan, valgrind) link the same inih as the
# shipped binary: same Debian source, same flags, built by the deps script.
INIH_GLIBC := -I$(DEPS)/glibc/include -L$(DEPS)/glibc/lib

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
UNIT_CFLAGS := -std=gnu11 -O1 -g $(WARN) $(DEFS) $(INCS) $(SAN) $(INIH_GLIBC)

PYTEST := /usr/bin/python3 -m pytest

.PHONY: all deps build helpers unit integration lint fmt fmt-check test demo \
	bench e2e image-context image-scratch-demo fuzz build-asan \
	build-valgrind sanitize \
	clean distclean

all: deps build

deps:
	@scripts/deps.sh
	@scripts/build-musl-deps.sh $(DEPS)

build: $(BIN)

$(BIN): $(SRCS) $(HDRS) Makefile $(DEPS_STAMP)
	@mkdir -p $(BUILD)
	musl-gcc $(MUSL_CFLAGS) -o $@ $(SRCS) $(MUSL_LDFLAGS) $(LIBS)
	@ls -l $@ | awk '{print "built " $$NF ": " $$5 " bytes"}'

$(DEPS_STAMP):
	@scripts/build-musl-deps.sh $(DEPS)

helpers: $(HELPERS)

$(BUILD)/helpers/%: tests/helpers/%.c
	@mkdir -p $(BUILD)/helpers
	musl-gcc -static -O2 -Wall -Wextra -Werror -isystem $(KH) -o $@ $<

# Unit tests: one binary per module, built twice (gcc and clang), both
# with ASan and UBSan, each run under a timeout.
unit: deps
	@scripts/run-unit.sh "$(UNIT_CFLAGS)"

integration: deps build helpers
	AGENT_INIT=$(abspath $(BIN)) HELPERS=$(abspath $(BUILD)/helpers) \
		$(PYTEST) -q -p no:cacheprovider tests/integration

# The end-to-end tests: a private dockerd of their own (tests/e2e/
# privdockerd.py), the scratch-demo image built from the context below.
E2E_CONTEXT := $(BUILD)/images/scratch-demo

image-context: build
	@images/scratch-demo/mkrootfs.sh $(E2E_CONTEXT) $(BIN)

# With whatever docker the caller's DOCKER_HOST names; FROM scratch, so no
# registry is needed.  The tests build it against their own dockerd.
image-scratch-demo: image-context
	DOCKER_BUILDKIT=0 docker build -t agent-init/scratch-demo $(E2E_CONTEXT)

e2e: deps build helpers image-context
	AGENT_INIT=$(abspath $(BIN)) HELPERS=$(abspath $(BUILD)/helpers) \
		E2E_CONTEXT=$(abspath $(E2E_CONTEXT)) \
		$(PYTEST) -q -p no:cacheprovider tests/e2e

lint: deps
	@scripts/lint.sh

fmt:
	@scripts/lint.sh --fix

fmt-check:
	@scripts/lint.sh --format-only

test: deps
	@scripts/run-tests.sh

demo: deps build
	@scripts/demo.sh $(abspath $(BIN))

bench: deps build
	@AGENT_INIT=$(abspath $(BIN)) bench/run.sh

# Soak at full size: tests/integration/test_soak.py reads its sizes from
# the environment; make test runs 10,000 cycles, 100,000 orphans, 1 GB.
.PHONY: soak
SOAK_CYCLES ?= 100000
SOAK_ORPHANS ?= 200000
SOAK_FLOOD_MB ?= 4096
soak: deps build helpers
	SOAK_CYCLES=$(SOAK_CYCLES) SOAK_ORPHANS=$(SOAK_ORPHANS) \
	SOAK_FLOOD_MB=$(SOAK_FLOOD_MB) AGENT_INIT=$(abspath $(BIN)) \
	HELPERS=$(abspath $(BUILD)/helpers) \
		$(PYTEST) -q -s -p no:cacheprovider tests/integration/test_soak.py

# Fuzzing: one libFuzzer binary per parser of outside input (tests/fuzz/),
# clang with ASan+UBSan, each run for FUZZ_SECONDS from its seed corpus.
FUZZ_SECONDS ?= 60

fuzz: deps
	@scripts/run-fuzz.sh $(FUZZ_SECONDS)

# Test builds for glibc, linked dynamically against Debian's libseccomp and
# libcap-ng, and statically against our inih (INIH_GLIBC): one with
# ASan+UBSan, one plain for valgrind.
# Never shipped; `make sanitize` runs the integration scenarios with them.
ASAN_BIN := $(BUILD)/asan/agent-init
VALGRIND_BIN := $(BUILD)/valgrind/agent-init
GLIBC_CFLAGS := -std=gnu11 -O1 -g -fno-omit-frame-pointer $(WARN) $(DEFS) \
	$(INCS)

build-asan: $(ASAN_BIN)

$(ASAN_BIN): $(SRCS) $(HDRS) Makefile $(DEPS_STAMP)
	@mkdir -p $(@D)
	clang $(GLIBC_CFLAGS) $(SAN) $(INIH_GLIBC) -o $@ $(SRCS) $(LIBS)

build-valgrind: $(VALGRIND_BIN)

$(VALGRIND_BIN): $(SRCS) $(HDRS) Makefile $(DEPS_STAMP)
	@mkdir -p $(@D)
	gcc $(GLIBC_CFLAGS) $(INIH_GLIBC) -o $@ $(SRCS) $(LIBS)

sanitize: deps build-asan build-valgrind helpers
	@scripts/run-sanitize.sh $(SANITIZE_FLAGS)

clean:
	rm -rf $(BUILD)/agent-init $(BUILD)/helpers $(BUILD)/unit \
		$(BUILD)/bench $(BUILD)/images $(BUILD)/fuzz $(BUILD)/asan \
		$(BUILD)/valgrind $(BUILD)/sanitize

distclean:
	rm -rf $(BUILD)
