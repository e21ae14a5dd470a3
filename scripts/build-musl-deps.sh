#!/bin/sh
# Build libseccomp and libcap-ng from Debian's source packages with musl-gcc,
# and take libinih's static archive from Debian's binary package, into
# WORKDIR/prefix.  Sources are fetched through a private apt configuration
# derived from the system's own sources (no host name here, /etc/apt is not
# touched); every fetched file is checked against a pinned sha256.
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
INIH_DEB=55-1

[ -f "$P/versions.mk" ] && [ -f "$P/include/agent-init-deps.h" ] && exit 0

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
set -- -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$A/parts" \
	-o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache" \
	-o APT::Sandbox::User=root -qq

S=$W/src
mkdir -p "$S"
cd "$S"
if ! [ -f libseccomp_$SECCOMP_VER.orig.tar.gz ] ||
	! [ -f libcap-ng_$CAPNG_VER.orig.tar.gz ] ||
	! [ -f libinih-dev_${INIH_DEB}_amd64.deb ]; then
	log "fetching sources through apt"
	apt-get "$@" update
	apt-get "$@" source --download-only \
		libseccomp=$SECCOMP_DEB libcap-ng=$CAPNG_DEB
	apt-get "$@" download libinih-dev=$INIH_DEB
fi

cat >SUMS <<SUMS
d82902400405cf0068574ef3dc1fe5f5926207543ba1ae6f8e7a1576351dcbdb  libseccomp_$SECCOMP_VER.orig.tar.gz
665fc6ad1b9887207b0af1a293a2d7975e2df503a2618d1808b970081f9672f6  libseccomp_$SECCOMP_DEB.debian.tar.xz
bed6f6848e22bb2f83b5f764b2aef0ed393054e803a8e3a8711cb2a39e6b492d  libcap-ng_$CAPNG_VER.orig.tar.gz
710577902c260f50f8cfc9d7e264131f880eab0581d12ceab17ebe48e2ac53c6  libcap-ng_$CAPNG_DEB.debian.tar.xz
0355b0799b508b0973bb8e48923be65f905bdc2c48f20db02455f1c1fa13253d  libinih-dev_${INIH_DEB}_amd64.deb
SUMS
if ! sha256sum --quiet -c SUMS; then
	log "sha256 mismatch: refusing to build (delete $S to refetch)"
	exit 1
fi

# Unpack the upstream tarball and apply Debian's patch series, as
# dpkg-source would (without needing it).
unpack() { # name version debversion
	rm -rf "$1-$2"
	tar xzf "$1_$2.orig.tar.gz"
	(cd "$1-$2" && tar xJf "../$1_$3.debian.tar.xz" &&
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

log "taking libinih $INIH_DEB from its Debian package"
rm -rf inih
dpkg-deb -x libinih-dev_${INIH_DEB}_amd64.deb inih
cp inih/usr/include/ini.h "$P/include/"
cp "$(find inih -name libinih.a | head -n1)" "$P/lib/"

for l in libseccomp.a libcap-ng.a libinih.a; do
	[ -f "$P/lib/$l" ] || { log "missing $P/lib/$l"; exit 1; }
done
cat >"$P/versions.mk.tmp" <<MK
LIBSECCOMP_VERSION := $SECCOMP_VER
LIBCAPNG_VERSION := $CAPNG_VER
INIH_VERSION := ${INIH_DEB%-*}
MK
mv "$P/versions.mk.tmp" "$P/versions.mk"
cat >"$P/include/agent-init-deps.h.tmp" <<H
/* Written by scripts/build-musl-deps.sh: the libraries linked in. */
#define LIBSECCOMP_VERSION "$SECCOMP_VER"
#define LIBCAPNG_VERSION "$CAPNG_VER"
#define INIH_VERSION "${INIH_DEB%-*}"
H
mv "$P/include/agent-init-deps.h.tmp" "$P/include/agent-init-deps.h"
log "done in $(($(date +%s) - t0)) s: $(cd "$P/lib" && ls -1 *.a | tr '\n' ' ')"
