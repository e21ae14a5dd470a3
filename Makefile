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
#   make release  dist/: static binaries for x86_64 and aarch64, SHA256SUMS
#   make image-release  the FROM scratch image agent-init:VERSION
#   make install  PREFIX=/usr/local DESTDIR=...: the binary and agent-init(8)
#   make test-aarch64   unit + integration subset of the aarch64 binary
#                 under qemu-aarch64-static
#
# Everything fetched or built lands under build/ and is reused.

VERSION := 0.1.0

BUILD := build
DEPS := $(BUILD)/deps
# Where the deps build installs the static libraries.  Not PREFIX: that
# one is the user's, for `make install`, and must never change what is
# linked.
DEPS_PREFIX := $(DEPS)/prefix
KH := $(DEPS)/kernel-headers
# The libraries' versions reach --version through a header that the deps
# build writes ($(DEPS_PREFIX)/include/agent-init-deps.h), never through
# make variables read when this file is parsed: on a first run the deps do
# not exist yet at that moment (a fresh clone's `make demo` used to build a
# binary that printed "libcap-ng , inih )").
DEPS_STAMP := $(DEPS_PREFIX)/include/agent-init-deps.h

BIN := $(BUILD)/agent-init
SRC_DIRS := core supervisor netcheck init
# Sorted, folder by folder: the link order, and so the binary's bytes,
# never depend on the order a file system lists a directory in.
SRCS := $(foreach d,$(SRC_DIRS),$(sort $(wildcard $(d)/*.c)))
HDRS := $(foreach d,$(SRC_DIRS),$(sort $(wildcard $(d)/*.h)))
INCS := $(addprefix -I,$(SRC_DIRS))

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
DEFS := -D_GNU_SOURCE -DAGENT_INIT_VERSION='"$(VERSION)"'

# The shipped binary: small first.  -Os with section GC drops whatever of
# libseccomp we do not call; link-time optimisation across agent-init and
# the libraries (built with -flto too); no unwind tables in C without
# exceptions.  bench/RESULTS.md ("Release binaries") has what each part
# costs.
# Reproducible: sources are named relative to the tree and the tree's own
# path is mapped away (-ffile-prefix-map), the binary is stripped (no
# symbols, no debug paths), the build id is a hash of the contents, and
# nothing reads the clock (no __DATE__/__TIME__).
REPRO := -ffile-prefix-map=$(CURDIR)=.
TARGET_CFLAGS = -std=gnu11 -Os -flto=auto $(WARN) $(DEFS) $(INCS) $(REPRO) \
	-ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
	-fno-unwind-tables -fstack-protector-strong
TARGET_LDFLAGS := -static -s -Wl,--gc-sections -Wl,-z,noexecstack
MUSL_CFLAGS = $(TARGET_CFLAGS) -isystem $(KH) -I$(DEPS_PREFIX)/include
MUSL_LDFLAGS = $(TARGET_LDFLAGS) -L$(DEPS_PREFIX)/lib
LIBS := -lseccomp -lcap-ng -linih

# The aarch64 build: Debian's cross gcc with Debian's musl for arm64, and
# the same libraries built from the same sources for it (the deps script
# with ARCH aarch64: build/deps/aarch64/).
A64 := $(DEPS)/aarch64
A64_PREFIX := $(A64)/prefix
A64_STAMP := $(A64_PREFIX)/include/agent-init-deps.h
A64_CC := $(A64)/bin/musl-gcc
A64_BIN := $(BUILD)/aarch64/agent-init
A64_CFLAGS = $(TARGET_CFLAGS) -isystem $(A64)/kernel-headers \
	-I$(A64_PREFIX)/include
A64_LDFLAGS = $(TARGET_LDFLAGS) -L$(A64_PREFIX)/lib

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
	build-valgrind sanitize deps-aarch64 build-aarch64 test-aarch64 \
	release image-release install uninstall clean distclean

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

deps-aarch64:
	@scripts/deps.sh
	@scripts/build-musl-deps.sh $(DEPS) aarch64

$(A64_STAMP):
	@scripts/build-musl-deps.sh $(DEPS) aarch64

build-aarch64: $(A64_BIN)

$(A64_BIN): $(SRCS) $(HDRS) Makefile $(A64_STAMP)
	@mkdir -p $(@D)
	$(A64_CC) $(A64_CFLAGS) -o $@ $(SRCS) $(A64_LDFLAGS) $(LIBS)
	@ls -l $@ | awk '{print "built " $$NF ": " $$5 " bytes"}'

# The aarch64 binary tested under qemu-user: its unit tests (built for
# aarch64 against cmocka built the same way) and the integration tests
# that make sense there (scripts/run-aarch64.sh says which, and why).
test-aarch64: deps-aarch64 build-aarch64 helpers
	@scripts/run-aarch64.sh $(abspath $(A64_BIN)) $(abspath $(BUILD)/helpers)

# Release: one static binary per architecture and their checksums, the
# same bytes from any clean clone in any directory (scripts/release.sh
# checks what makes that so; tests/integration/test_release.py builds
# twice and compares).
DIST := dist
DIST_X86 := $(DIST)/agent-init-$(VERSION)-x86_64
DIST_A64 := $(DIST)/agent-init-$(VERSION)-aarch64

release: deps deps-aarch64
	@$(MAKE) -s $(DIST)/SHA256SUMS
	@cat $(DIST)/SHA256SUMS

$(DIST_X86): $(BIN)
	@scripts/release.sh check $< x86_64
	install -D -m 0755 $< $@

$(DIST_A64): $(A64_BIN)
	@scripts/release.sh check $< aarch64
	install -D -m 0755 $< $@

$(DIST)/SHA256SUMS: $(DIST_X86) $(DIST_A64)
	cd $(DIST) && sha256sum $(notdir $^) >SHA256SUMS.tmp && \
		chmod 0644 SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS

# The release image: FROM scratch, /agent-init only, for the docker that
# DOCKER_HOST names and its architecture; no registry needed.
RELEASE_CONTEXT := $(BUILD)/images/release
image-release: release
	@images/release/mkcontext.sh $(RELEASE_CONTEXT) $(DIST) $(VERSION)
	DOCKER_BUILDKIT=0 docker build -q --build-arg VERSION=$(VERSION) \
		-t agent-init:$(VERSION) $(RELEASE_CONTEXT)

# make install PREFIX=/usr/local DESTDIR=/tmp/stage: the binary and the
# man page.  PREFIX only says where they go, never what is linked.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/agent-init
	install -m 0644 docs/agent-init.8 $(DESTDIR)$(MANDIR)/man8/agent-init.8

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/agent-init \
		$(DESTDIR)$(MANDIR)/man8/agent-init.8

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

e2e: deps build helpers image-context release
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
		$(BUILD)/valgrind $(BUILD)/sanitize $(BUILD)/aarch64 \
		$(BUILD)/unit-aarch64 $(DIST)

distclean:
	rm -rf $(BUILD) $(DIST)
