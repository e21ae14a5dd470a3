#!/bin/sh
# check-reproducible.sh DIR: the release from scratch, twice.  Clones this
# repository's HEAD into DIR/a and DIR/bb/some/other-tree, runs `make
# release` in each (each builds its own build/deps: libraries for both
# architectures, from the source archives this tree already downloaded,
# copied in, or fetched again), and compares dist/ byte for byte.  Prints
# both SHA256SUMS; exits 0 only if every file is identical.
#
# This is the check behind "two make release runs from clean clones in
# different directories give byte-identical files"; make test runs a
# quicker one (tests/integration/test_release.py, which shares build/deps).
set -eu
dir=${1:?usage: check-reproducible.sh DIR}
top=$(cd "$(dirname "$0")/.." && pwd)
[ ! -e "$dir" ] || { echo "check-reproducible: $dir exists" >&2; exit 64; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
for t in "$dir/a" "$dir/bb/some/other-tree"; do
	git clone -q --no-hardlinks "$top" "$t"
	mkdir -p "$t/build/deps/src"
	for f in "$top"/build/deps/src/*.tar.* "$top"/build/deps/src/*.deb \
		"$top"/build/deps/src/*.dsc; do
		[ ! -f "$f" ] || cp "$f" "$t/build/deps/src/"
	done
	echo "== $t: make release" >&2
	(cd "$t" && make -s release >"$dir/$(echo "$t" | tr / _).log" 2>&1) || {
		echo "check-reproducible: make release failed in $t:" >&2
		tail -30 "$dir/$(echo "$t" | tr / _).log" >&2
		exit 1
	}
done
echo "== $dir/a/dist/SHA256SUMS"
cat "$dir/a/dist/SHA256SUMS"
echo "== $dir/bb/some/other-tree/dist/SHA256SUMS"
cat "$dir/bb/some/other-tree/dist/SHA256SUMS"
if diff -r "$dir/a/dist" "$dir/bb/some/other-tree/dist" >&2; then
	echo "check-reproducible: identical"
else
	echo "check-reproducible: the two releases differ" >&2
	exit 1
fi
