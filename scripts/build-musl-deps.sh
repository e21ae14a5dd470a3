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
#
# With ARCH aarch64, the same three libraries from the same sources and
# flags are cross-built into WORKDIR/aarch64/prefix with Debian's cross gcc
# (gcc-aarch64-linux-gnu), Debian's musl for arm64 (musl-dev:arm64, a
# pinned .deb unpacked under WORKDIR/aarch64/musl, never installed) and the
# target's kernel headers (linux-libc-dev-arm64-cross); cmocka too
# (Debian's source, WORKDIR/aarch64/cmocka), for the unit tests run under
# qemu-aarch64-static.
#
# Reproducible: no date or path reaches a library (-ffile-prefix-map,
# archives written with `ar D`: zero timestamps and uids, members in the
# order the makefiles list them).  Two builds in different directories give
# byte-identical archives (checked once, bench/RESULTS.md "Release").
#
# Idempotent: WORKDIR/prefix/built-by (WORKDIR/aarch64/prefix/built-by)
# holding this script's sha256 means there is nothing to do; a changed
# recipe builds everything again.  WORKDIR/prefix/include/agent-init-deps.h,
# written last, gives the libraries' versions to the build (agent-init
# --version).
set -eu

W=${1:?usage: build-musl-deps.sh WORKDIR [aarch64]}
ARCH=${2:-native}
case $ARCH in
native | aarch64) ;;
*) echo "build-musl-deps.sh: unknown ARCH '$ARCH' (native, aarch64)" >&2; exit 64 ;;
esac
mkdir -p "$W"
# The physical path: what this build writes down (the compiler wrappers,
# the aarch64 specs) must stay right when WORKDIR was reached through a
# symbolic link that goes away (a test's copy of the tree links to the
# repository's build/deps).
W=$(cd "$W" && pwd -P)
P=$W/prefix
KH=$W/kernel-headers
[ "$ARCH" = native ] || { P=$W/$ARCH/prefix; KH=$W/$ARCH/kernel-headers; }

SECCOMP_VER=2.5.4
SECCOMP_DEB=2.5.4-1+deb12u1
CAPNG_VER=0.8.3
CAPNG_DEB=0.8.3-1
INIH_VER=59
INIH_DEB=59-1
NEXT_SUITE=trixie
MUSL_DEB=1.2.3-1
CMOCKA_VER=1.1.5
CMOCKA_DEB=1.1.5-2.1
# A line of up to 16 KiB (inih needs 3 more bytes: CR, LF, NUL), on the
# stack; no continuation lines (an indented line is an error of ours, not a
# silent join); a UTF-8 BOM skipped.
INIH_FLAGS="-DINI_MAX_LINE=16387 -DINI_USE_STACK=1 -DINI_ALLOW_MULTILINE=0 \
-DINI_ALLOW_BOM=1 -DINI_HANDLER_LINENO=0 -DINI_STOP_ON_FIRST_ERROR=0"

# Done when this very script built the prefix: a changed recipe (another
# version, other flags) builds everything again.
STAMP=$(sha256sum "$0" | cut -d' ' -f1)
[ -f "$P/built-by" ] && [ "$(cat "$P/built-by")" = "$STAMP" ] && exit 0

log() { echo "musl-deps($ARCH): $*" >&2; }
t0=$(date +%s)
S=$W/src
mkdir -p "$S"
# Where the sources were unpacked is no business of the libraries: with
# this, __FILE__ and any debug line say "./db.c", whatever WORKDIR is.
MAP="-ffile-prefix-map=$S=."
# Small first: -Os, and link-time optimisation (the archives hold GIMPLE,
# so the final link drops and inlines across the libraries and
# agent-init; archived with gcc-ar, which knows the LTO plugin).  12 KiB
# less than section GC alone (bench/RESULTS.md, "Release").  Fat objects:
# machine code as well, for a link without LTO (scripts/size-report.py
# charges each byte to its archive member that way).
LIBCFLAGS="-Os -flto -ffat-lto-objects -ffunction-sections -fdata-sections $MAP"

# musl-gcc does not search /usr/include: give it the kernel headers only.
kernel_headers() { # DIR INCLUDEDIR ASMDIR
	mkdir -p "$1"
	ln -sfn "$2/linux" "$1/linux"
	ln -sfn "$2/asm-generic" "$1/asm-generic"
	ln -sfn "$3" "$1/asm"
}

A=$W/apt
apt_setup() {
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
}
# The private apt, with the arm64 indexes as well for the aarch64 build
# (musl-dev:arm64 is downloaded, never installed).
apt_private() {
	if [ "$ARCH" = aarch64 ]; then
		set -- -o APT::Architectures::=amd64 -o APT::Architectures::=arm64 "$@"
	fi
	apt-get -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$A/parts" \
		-o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache" \
		-o APT::Sandbox::User=root -qq "$@"
}

cd "$S"
cat >SUMS <<SUMS
d82902400405cf0068574ef3dc1fe5f5926207543ba1ae6f8e7a1576351dcbdb  libseccomp_$SECCOMP_VER.orig.tar.gz
665fc6ad1b9887207b0af1a293a2d7975e2df503a2618d1808b970081f9672f6  libseccomp_$SECCOMP_DEB.debian.tar.xz
bed6f6848e22bb2f83b5f764b2aef0ed393054e803a8e3a8711cb2a39e6b492d  libcap-ng_$CAPNG_VER.orig.tar.gz
710577902c260f50f8cfc9d7e264131f880eab0581d12ceab17ebe48e2ac53c6  libcap-ng_$CAPNG_DEB.debian.tar.xz
062279922805f5e9a369551a08d5ddb506140fe50774183ffdbb7c22bb97e3f4  libinih_$INIH_VER.orig.tar.gz
1271db2900148296fd5b9ea1518947458d26957b737b07042422023b362fc353  libinih_$INIH_DEB.debian.tar.xz
SUMS
if [ "$ARCH" = aarch64 ]; then
	cat >>SUMS <<SUMS
55c2ca4bc3041c8ed8ac7dc3ef6080d9551a21650568b2fd7610b59eaf98a4f4  musl-dev_${MUSL_DEB}_arm64.deb
f0ccd8242d55e2fd74b16ba518359151f6f8383ff8aef4976e48393f77bba8b6  cmocka_$CMOCKA_VER.orig.tar.xz
6ba25b3981ce2a6b954ba17b2e05460e5b14fd2092475fb3c13b0eb9aa3208b2  cmocka_$CMOCKA_DEB.debian.tar.xz
SUMS
fi
missing=
for f in $(cut -d' ' -f3 SUMS); do [ -f "$f" ] || missing="$missing $f"; done
if [ -n "$missing" ]; then
	log "fetching through apt:$missing"
	apt_setup
	apt_private update
	case $missing in *libseccomp* | *libcap-ng* | *libinih*)
		apt_private source --download-only \
			libseccomp=$SECCOMP_DEB libcap-ng=$CAPNG_DEB libinih=$INIH_DEB ;;
	esac
	case $missing in *musl-dev*) apt_private download musl-dev:arm64=$MUSL_DEB ;; esac
	case $missing in *cmocka*) apt_private source --download-only cmocka=$CMOCKA_DEB ;; esac
fi
if ! sha256sum --quiet -c SUMS; then
	log "sha256 mismatch: refusing to build (delete $S to refetch)"
	exit 1
fi

# Unpack the upstream tarball and apply Debian's patch series, as
# dpkg-source would (without needing it).
unpack() { # name version debversion [directory in the tarball]
	d=${4:-$1-$2}
	rm -rf "$d"
	for t in "$1_$2.orig.tar.gz" "$1_$2.orig.tar.xz"; do
		[ ! -f "$t" ] || tar xf "$t"
	done
	(cd "$d" && tar xJf "../$1_$3.debian.tar.xz" &&
		if [ -f debian/patches/series ]; then
			grep -v '^#' debian/patches/series | while read -r p; do
				[ -n "$p" ] || continue
				patch -s -p1 --no-backup-if-mismatch <"debian/patches/$p"
			done
		fi)
}

# ccwrap PATH COMMAND...: a compiler at PATH that runs COMMAND with the
# arguments, seeding gcc with the file name of the object it writes.
# Without -frandom-seed, gcc names the LTO sections of an object with a
# random number, and two builds of the same source differ; the object's
# file name is a seed that differs per object, as gcc's manual asks, and
# never holds a directory (gcc keeps the options in the object).
ccwrap() {
	p=$1
	shift
	cat >"$p" <<WRAP
#!/bin/sh
# Written by scripts/build-musl-deps.sh.
o= prev=
for a; do [ "\$prev" = -o ] && o=\${a##*/}; prev=\$a; done
exec $* \${o:+-frandom-seed="\$o"} "\$@"
WRAP
	chmod +x "$p"
}

# The C compiler for the target: musl-gcc (Debian's musl-tools) natively;
# for aarch64 the cross gcc with the specs file of musl-dev:arm64, its
# paths pointed at where the package was unpacked.
if [ "$ARCH" = native ]; then
	kernel_headers "$KH" /usr/include "/usr/include/$(dpkg-architecture \
		-qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/asm"
	mkdir -p "$W/bin"
	CC=$W/bin/musl-gcc
	ccwrap "$CC" musl-gcc
	HOST=
	TOOLS="AR=gcc-ar RANLIB=gcc-ranlib NM=gcc-nm"
	AR=gcc-ar
else
	kernel_headers "$KH" /usr/aarch64-linux-gnu/include \
		/usr/aarch64-linux-gnu/include/asm
	M=$W/aarch64/musl
	rm -rf "$M" && mkdir -p "$M" "$W/aarch64/bin"
	dpkg-deb -x "$S/musl-dev_${MUSL_DEB}_arm64.deb" "$M"
	sed "s|/usr/|$M/usr/|g" "$M/usr/lib/aarch64-linux-musl/musl-gcc.specs" \
		>"$W/aarch64/musl-gcc.specs"
	# The tools under the target's name, so that configure finds them
	# (ar, ranlib and nm that know the LTO plugin, strip).
	B=$W/aarch64/bin
	CC=$B/aarch64-linux-musl-gcc
	ccwrap "$CC" aarch64-linux-gnu-gcc -specs "$W/aarch64/musl-gcc.specs"
	ln -sfn aarch64-linux-musl-gcc "$B/musl-gcc"
	for t in gcc-ar gcc-ranlib strip gcc-nm; do
		ln -sfn "$(command -v aarch64-linux-gnu-$t)" \
			"$B/aarch64-linux-musl-${t#gcc-}"
	done
	PATH=$B:$PATH
	HOST=--host=aarch64-linux-musl
	TOOLS="AR=aarch64-linux-gnu-gcc-ar RANLIB=aarch64-linux-gnu-gcc-ranlib
NM=aarch64-linux-gnu-gcc-nm"
	AR=aarch64-linux-gnu-gcc-ar
fi

mkdir -p "$P/include" "$P/lib"
log "building libseccomp $SECCOMP_VER"
unpack libseccomp $SECCOMP_VER $SECCOMP_DEB
# shellcheck disable=SC2086
(cd libseccomp-$SECCOMP_VER &&
	./configure -q $HOST CC="$CC" CFLAGS="$LIBCFLAGS" $TOOLS AR_FLAGS=crD \
		CPPFLAGS="-isystem $KH" --prefix="$P" --enable-static \
		--disable-shared --disable-python >/dev/null &&
	make -s -j2 -C src >/dev/null && make -s -C src install >/dev/null &&
	make -s -C include install >/dev/null)

log "building libcap-ng $CAPNG_VER"
unpack libcap-ng $CAPNG_VER $CAPNG_DEB
# shellcheck disable=SC2086
(cd libcap-ng-$CAPNG_VER &&
	./configure -q $HOST CC="$CC" CFLAGS="$LIBCFLAGS" $TOOLS AR_FLAGS=crD \
		CPPFLAGS="-isystem $KH" --prefix="$P" --enable-static \
		--disable-shared --without-python --without-python3 >/dev/null 2>&1 &&
	make -s -j2 -C src >/dev/null 2>&1 && make -s -C src install >/dev/null)

log "building inih $INIH_VER (from $NEXT_SUITE's source package)"
unpack libinih $INIH_VER $INIH_DEB inih-r$INIH_VER
inih() { # inih CC CFLAGS OUTDIR [AR]: one static archive of ini.c, and ini.h
	mkdir -p "$3/lib" "$3/include"
	# shellcheck disable=SC2086
	$1 $2 $INIH_FLAGS -c -o "$3/ini.o" inih-r$INIH_VER/ini.c &&
		${4:-ar} rcD "$3/lib/libinih.a" "$3/ini.o" && rm -f "$3/ini.o" &&
		cp inih-r$INIH_VER/ini.h "$3/include/"
}
rm -f "$P/lib/libinih.a"
inih "$CC" "$LIBCFLAGS" "$P" "$AR"
if [ "$ARCH" = native ]; then
	rm -f "$W/glibc/lib/libinih.a" "$W/fuzz/lib/libinih.a"
	inih gcc "-O1 -g -fPIC -fno-omit-frame-pointer $MAP" "$W/glibc"
	inih clang "-O1 -g -fPIC -fno-omit-frame-pointer \
-fsanitize=fuzzer-no-link,address,undefined $MAP" "$W/fuzz"
	printf '%s\n' "$INIH_FLAGS" >"$W/inih.flags"
else
	# cmocka for the aarch64 unit tests: its one source file, with the
	# answers its cmake checks give for musl written out (the library has
	# no other configuration), into one static archive.  cmocka.h guesses
	# 32 bits where libc's <stdint.h> does not define __WORDSIZE (musl),
	# so it is given here and to every unit test built for aarch64.
	log "building cmocka $CMOCKA_VER"
	unpack cmocka $CMOCKA_VER $CMOCKA_DEB
	C=$W/aarch64/cmocka
	rm -rf "$C" && mkdir -p "$C/lib" "$C/include"
	# shellcheck disable=SC2086
	"$CC" -std=gnu99 -O1 $MAP -D__WORDSIZE=64 -DHAVE_MALLOC_H -DHAVE_INTTYPES_H \
		-DHAVE_SIGNAL_H -DHAVE_STRINGS_H -DHAVE_SIGLONGJMP -DHAVE_STRSIGNAL \
		-DHAVE_STRUCT_TIMESPEC -DHAVE_CLOCK_GETTIME -DHAVE_CLOCK_REALTIME \
		-DHAVE_GCC_THREAD_LOCAL_STORAGE -Icmocka-$CMOCKA_VER/include \
		-c -o "$C/cmocka.o" cmocka-$CMOCKA_VER/src/cmocka.c
	ar rcD "$C/lib/libcmocka.a" "$C/cmocka.o" && rm -f "$C/cmocka.o"
	cp cmocka-$CMOCKA_VER/include/cmocka.h "$C/include/"
fi

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
