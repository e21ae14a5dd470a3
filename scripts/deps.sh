#!/bin/sh
# Install the Debian packages the build, the tests and the benchmarks need.
# A no-op (one dpkg-query) when everything is there.  As root with apt it
# installs what is missing; otherwise it prints the exact command and fails.
set -eu

PKGS="make gcc clang libclang-rt-14-dev musl-tools gperf dpkg-dev
libcmocka-dev libseccomp-dev libcap-ng-dev
clang-format clang-tidy cppcheck
python3 python3-pytest valgrind util-linux iproute2 procps busybox-static libcap2-bin
strace
tini dumb-init catatonit hyperfine s6 runit supervisor
docker.io dnsmasq tinyproxy iptables nftables curl
gcc-aarch64-linux-gnu linux-libc-dev-arm64-cross qemu-user-static man-db"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$st" in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run as root: apt-get update && $cmd" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# dnsmasq, tinyproxy, supervisor and docker.io come with system services:
# the tests start their own, privately, so keep apt from starting these
# (a dnsmasq on the machine's port 53 is the last thing a test wants).
prc=/usr/sbin/policy-rc.d
own_prc=
if [ ! -e $prc ]; then
	printf '#!/bin/sh\nexit 101\n' >$prc && chmod +x $prc && own_prc=1
fi
trap '[ -z "$own_prc" ] || rm -f $prc' EXIT
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
