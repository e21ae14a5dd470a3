#!/bin/sh
# mkcontext.sh CONTEXT DIST VERSION [ARCH]: the build context of the release
# image (CONTEXT/Dockerfile, CONTEXT/agent-init).  ARCH (x86_64, aarch64)
# defaults to the architecture of the docker engine that DOCKER_HOST names,
# so that the image runs where it is built.  The binary is
# DIST/agent-init-VERSION-ARCH, copied only if it matches DIST/SHA256SUMS:
# the image holds exactly the released bytes.
set -eu
ctx=${1:?usage: mkcontext.sh CONTEXT DIST VERSION [ARCH]}
dist=${2:?usage: mkcontext.sh CONTEXT DIST VERSION [ARCH]}
version=${3:?usage: mkcontext.sh CONTEXT DIST VERSION [ARCH]}
arch=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "$arch" ]; then
	engine=$(docker version -f '{{.Server.Arch}}') || {
		echo "mkcontext: cannot ask the docker engine for its architecture" \
			"(DOCKER_HOST=${DOCKER_HOST:-unset})" >&2
		exit 1
	}
	case $engine in
	amd64 | x86_64) arch=x86_64 ;;
	arm64 | aarch64) arch=aarch64 ;;
	*) echo "mkcontext: no release binary for a $engine engine" >&2; exit 1 ;;
	esac
fi
bin=agent-init-$version-$arch
[ -f "$dist/$bin" ] || { echo "mkcontext: $dist/$bin missing (make release)" >&2; exit 1; }
(cd "$dist" && grep "  $bin\$" SHA256SUMS | sha256sum --quiet --strict -c -) || {
	echo "mkcontext: $dist/$bin does not match $dist/SHA256SUMS" >&2
	exit 1
}
rm -rf "$ctx"
mkdir -p "$ctx"
cp "$here/Dockerfile" "$ctx/Dockerfile"
install -m 0755 "$dist/$bin" "$ctx/agent-init"
echo "$ctx: $bin"
