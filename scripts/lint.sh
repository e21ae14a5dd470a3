#!/bin/sh
# lint.sh [--fix]: the house format (.clang-format) checked without
# rewriting, the layers (scripts/layers.sh), the header API lines
# (scripts/api.py), then cppcheck and clang-tidy (.clang-tidy).  Any
# finding fails.
# With --fix, only reformat the sources in place.
set -u
cd "$(dirname "$0")/.."
SRCS=$(ls core/*.[ch] init/*.[ch] supervisor/*.[ch] netcheck/*.[ch] tests/unit/*.c \
	tests/helpers/*.c tests/fuzz/*.[ch] bench/*.c 2>/dev/null)
PROD=$(ls core/*.c supervisor/*.c netcheck/*.c init/*.c)
if [ "${1:-}" = "--fix" ]; then
	# shellcheck disable=SC2086
	exec clang-format -i $SRCS
fi
rc=0
KH=build/deps/kernel-headers
DEFS="-D_GNU_SOURCE -DAGENT_INIT_VERSION=\"0\" -DLIBCAPNG_VERSION=\"0\" -DINIH_VERSION=\"0\""
INCS="-Icore -Isupervisor -Inetcheck -Iinit -Ibuild/deps/glibc/include"

echo "lint: clang-format"
# shellcheck disable=SC2086
clang-format --dry-run --Werror $SRCS || rc=1
[ "${1:-}" = "--format-only" ] && exit $rc

echo "lint: layers (includes point down: core < supervisor, netcheck < init)"
scripts/layers.sh || rc=1

echo "lint: header API lines (each header's Public API: names what it declares)"
/usr/bin/python3 scripts/api.py || rc=1

echo "lint: cppcheck"
# shellcheck disable=SC2086
cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
	--inline-suppr --suppress=missingIncludeSystem $INCS -D_GNU_SOURCE \
	-DAGENT_INIT_VERSION=\"0\" -DLIBCAPNG_VERSION=\"0\" -DINIH_VERSION=\"0\" \
	$PROD || rc=1

echo "lint: clang-tidy"
for f in $PROD; do
	# shellcheck disable=SC2086
	clang-tidy --quiet "$f" -- -std=gnu11 $DEFS $INCS 2>/dev/null || {
		echo "lint: clang-tidy: findings in $f" >&2; rc=1; }
done
[ $rc -eq 0 ] && echo "lint: clean"
exit $rc
