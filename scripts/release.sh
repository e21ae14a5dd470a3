#!/bin/sh
# release.sh check BINARY ARCH: refuse to ship a binary that is not what a
# release promises.  BINARY must be an ELF executable for ARCH (x86_64,
# aarch64), statically linked (no interpreter, no dynamic section),
# stripped (no symbol table, no debug sections), and must not contain the
# path of the tree it was built in: anything that would make two builds of
# the same sources in two directories differ, or tie the binary to this
# machine.  Prints one line per problem and exits 1; silent on success.
set -u
[ "${1:-}" = check ] && [ $# -eq 3 ] || {
	echo "usage: release.sh check BINARY x86_64|aarch64" >&2
	exit 64
}
bin=$2 arch=$3
case $arch in
x86_64) machine="Advanced Micro Devices X86-64" ;;
aarch64) machine="AArch64" ;;
*) echo "release: unknown architecture '$arch'" >&2; exit 64 ;;
esac
[ -f "$bin" ] || { echo "release: $bin: no such file" >&2; exit 1; }
rc=0
bad() { echo "release: $bin: $*" >&2; rc=1; }

hdr=$(readelf -h "$bin" 2>&1) || { bad "not an ELF file"; exit 1; }
echo "$hdr" | grep -q "Machine: *$machine\$" ||
	bad "not built for $arch ($(echo "$hdr" | sed -n 's/ *Machine: *//p'))"
echo "$hdr" | grep -q "Type: *EXEC" || bad "not a plain executable"
prog=$(readelf -lW "$bin")
! echo "$prog" | grep -q " INTERP " || bad "has a program interpreter (dynamic)"
! echo "$prog" | grep -q " DYNAMIC " || bad "has a dynamic section"
secs=$(readelf -SW "$bin")
! echo "$secs" | grep -qE '\] \.(symtab|debug_)' || bad "not stripped"
# The tree's own path, and the usual homes of a build tree: none of them
# may be in the bytes (-ffile-prefix-map, relative source names).
top=$(cd "$(dirname "$0")/.." && pwd)
for p in "$top" "${HOME:-/root}/" /tmp/; do
	! grep -qaF "$p" "$bin" || bad "contains the path '$p'"
done
exit $rc
