#!/bin/sh
# Build libseccomp, libcap-ng and inih from Debian's source packages with
# musl-gcc into WORKDIR/prefix.  Sources are fetched through a private apt
# configuration derived from the system's own sources (no host name here,
# /etc/apt is not touched); every fetched file is checked against a pinned
# sha256.
#
# inih comes from the next Debian release's source package (inih 59):
# bookworm's is no longer served, and its binary package was built with a
# 200-byte line buffer.  The same patched source, with the same flags
# (INIH_FLAGS below), is also built for the glibc test builds
# (WORKDIR/glibc: unit tests, ASan, valgrind) and, instrumented, for the
# fuzz targets (WORKDIR/fuzz), so that the parser tested is the one shipped.
# Idempotent: a finished WORKDIR/prefix/versions.mk means there is nothing
# to do.  WORKDIR/prefix/include/agent-init-deps.h, written last, gives the
# libraries' versions to the build (agent-init --version).
set -eu

W=${1:?usage: build-musl-deps.sh WORKDIR}
mkdir -p "$W"
W=$(cd "$W" && pwd)
P=$W/prefix
KH=$W/kernel-headers

SECCOMP_VER=2.5.4
SECCOMP_DEB=2.5.4-1+deb12u1
CAPNG_VER=0.8.3
CAPNG_DEB=0.8.3-1
INIH_VER=59
INIH_DEB=59-1
NEXT_SUITE=trixie
# A line of up to 16 KiB (inih needs 3 more bytes: CR, LF, NUL), on the
# stack; no continuation lines (an indented line is an error of ours, not a
# silent join); a UTF-8 BOM skipped.
INIH_FLAGS="-DINI_MAX_LINE=16387 -DINI_USE_STACK=1 -DINI_ALLOW_MULTILINE=0 \
-DINI_ALLOW_BOM=1 -DINI_HANDLER_LINENO=0 -DINI_STOP_ON_FIRST_ERROR=0"

# Done when this very script built WORKDIR/prefix: a changed recipe
# (another version, other flags) builds everything again.
STAMP=$(sha256sum "$0" | cut -d' ' -f1)
[ -f "$P/built-by" ] && [ "$(cat "$P/built-by")" = "$STAMP" ] && exit 0

log() { echo "musl-deps: $*" >&2; }
t0=$(date +%s)

# musl-gcc does not search /usr/include: give it the kernel headers only.
mkdir -p "$KH"
ln -sfn /usr/include/linux "$KH/linux"
ln -sfn /usr/include/asm-generic "$KH/asm-generic"
ln -sfn "/usr/include/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null \
	|| echo x86_64-linux-gnu)/asm" "$KH/asm"

A=$W/apt
mkdir -p "$A/parts" "$A/lists/partial" "$A/cache/archives/partial"
rm -f "$A"/parts/*
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	sed 's/^Types:.*/Types: deb deb-src/' "$f" >"$A/parts/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	sed -n 's/^deb \(.*\)/deb \1\ndeb-src \1/p' "$f" \
		>"$A/parts/$(basename "$f" .list)-$(echo "$f" | cksum | cut -d' ' -f1).list"
done
# The next release's sources, for inih only: the main archive's entries
# again, source only, with the suite rewritten (security and updates
# suites have no such names).
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	awk -v suite="$NEXT_SUITE" 'BEGIN { RS = ""; ORS = "\n\n" }
		match($0, /Suites:[ \t]*[^ \t\n]+/) {
			first = substr($0, RSTART, RLENGTH)
			sub(/Suites:[ \t]*/, "", first)
			if (first ~ /-/)
				next # bookworm-security and the like
			sub(/Types:[^\n]*/, "Types: deb-src")
			sub(/Suites:[^\n]*/, "Suites: " suite)
			print
		}' "$f" >"$A/parts/next-$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	sed -n "s/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) [a-z]* \(.*\)/deb-src \1\2 $NEXT_SUITE \3/p" "$f" |
		grep -v -- '-security' \
		>"$A/parts/next-$(basename "$f" .list)-$(echo "$f" | cksum | cut -d' ' -f1).list" || true
done
set -- -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$A/parts" \
	-o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache" \
	-o APT::Sandbox::User=root -qq

S=$W/src
mkdir -p "$S"
cd "$S"
if ! [ -f libseccomp_$SECCOMP_VER.orig.tar.gz ] ||
	! [ -f libcap-ng_$CAPNG_VER.orig.tar.gz ] ||
	! [ -f libinih_$INIH_VER.orig.tar.gz ]; then
	log "fetching sources through apt"
	apt-get "$@" update
	apt-get "$@" source --download-only \
		libseccomp=$SECCOMP_DEB libcap-ng=$CAPNG_DEB libinih=$INIH_DEB
fi

cat >SUMS <<SUMS
d82902400405cf0068574ef3dc1fe5f5926207543ba1ae6f8e7a1576351dcbdb  libseccomp_$SECCOMP_VER.orig.tar.gz
665fc6ad1b9887207b0af1a293a2d7975e2df503a2618d1808b970081f9672f6  libseccomp_$SECCOMP_DEB.debian.tar.xz
bed6f6848e22bb2f83b5f764b2aef0ed393054e803a8e3a8711cb2a39e6b492d  libcap-ng_$CAPNG_VER.orig.tar.gz
710577902c260f50f8cfc9d7e264131f880eab0581d12ceab17ebe48e2ac53c6  libcap-ng_$CAPNG_DEB.debian.tar.xz
062279922805f5e9a369551a08d5ddb506140fe50774183ffdbb7c22bb97e3f4  libinih_$INIH_VER.orig.tar.gz
1271db2900148296fd5b9ea1518947458d26957b737b07042422023b362fc353  libinih_$INIH_DEB.debian.tar.xz
SUMS
if ! sha256sum --quiet -c SUMS; then
	log "sha256 mismatch: refusing to build (delete $S to refetch)"
	exit 1
fi

# Unpack the upstream tarball and apply Debian's patch series, as
# dpkg-source would (without needing it).
unpack() { # name version debversion [directory in the tarball]
	d=${4:-$1-$2}
	rm -rf "$d"
	tar xzf "$1_$2.orig.tar.gz"
	(cd "$d" && tar xJf "../$1_$3.debian.tar.xz" &&
		if [ -f debian/patches/series ]; then
			grep -v '^#' debian/patches/series | while read -r p; do
				[ -n "$p" ] || continue
				patch -s -p1 --no-backup-if-mismatch <"debian/patches/$p"
			done
		fi)
}

mkdir -p "$P/include" "$P/lib"
log "building libseccomp $SECCOMP_VER"
unpack libseccomp $SECCOMP_VER $SECCOMP_DEB
(cd libseccomp-$SECCOMP_VER &&
	./configure -q CC=musl-gcc CFLAGS="-Os -ffunction-sections -fdata-sections" \
		CPPFLAGS="-isystem $KH" --prefix="$P" --enable-static \
		--disable-shared --disable-python >/dev/null &&
	make -s -j2 -C src >/dev/null && make -s -C src install >/dev/null &&
	make -s -C include install >/dev/null)

log "building libcap-ng $CAPNG_VER"
unpack libcap-ng $CAPNG_VER $CAPNG_DEB
(cd libcap-ng-$CAPNG_VER &&
	./configure -q CC=musl-gcc CFLAGS="-Os -ffunction-sections -fdata-sections" \
		CPPFLAGS="-isystem $KH" --prefix="$P" --enable-static \
		--disable-shared --without-python --without-python3 >/dev/null 2>&1 &&
	make -s -j2 -C src >/dev/null 2>&1 && make -s -C src install >/dev/null)

log "building inih $INIH_VER (from $NEXT_SUITE's source package)"
unpack libinih $INIH_VER $INIH_DEB inih-r$INIH_VER
inih() { # inih CC CFLAGS OUTDIR: one static archive of ini.c, and ini.h
	mkdir -p "$3/lib" "$3/include"
	# shellcheck disable=SC2086
	$1 $2 $INIH_FLAGS -c -o "$3/ini.o" inih-r$INIH_VER/ini.c &&
		ar rcD "$3/lib/libinih.a" "$3/ini.o" && rm -f "$3/ini.o" &&
		cp inih-r$INIH_VER/ini.h "$3/include/"
}
rm -f "$P/lib/libinih.a" "$W/glibc/lib/libinih.a" "$W/fuzz/lib/libinih.a"
inih musl-gcc "-Os -ffunction-sections -fdata-sections" "$P"
inih gcc "-O1 -g -fPIC -fno-omit-frame-pointer" "$W/glibc"
inih clang "-O1 -g -fPIC -fno-omit-frame-pointer \
-fsanitize=fuzzer-no-link,address,undefined" "$W/fuzz"
printf '%s\n' "$INIH_FLAGS" >"$W/inih.flags"

for l in libseccomp.a libcap-ng.a libinih.a; do
	[ -f "$P/lib/$l" ] || { log "missing $P/lib/$l"; exit 1; }
done
cat >"$P/versions.mk.tmp" <<MK
LIBSECCOMP_VERSION := $SECCOMP_VER
LIBCAPNG_VERSION := $CAPNG_VER
INIH_VERSION := $INIH_VER
MK
mv "$P/versions.mk.tmp" "$P/versions.mk"
cat >"$P/include/agent-init-deps.h.tmp" <<H
/* Written by scripts/build-musl-deps.sh: the libraries linked in. */
#define LIBSECCOMP_VERSION "$SECCOMP_VER"
#define LIBCAPNG_VERSION "$CAPNG_VER"
#define INIH_VERSION "$INIH_VER"
H
mv "$P/include/agent-init-deps.h.tmp" "$P/include/agent-init-deps.h"
echo "$STAMP" >"$P/built-by"
log "done in $(($(date +%s) - t0)) s: $(cd "$P/lib" && ls -1 *.a | tr '\n' ' ')"
