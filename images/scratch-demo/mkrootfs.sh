#!/bin/sh
# mkrootfs.sh CONTEXT AGENT_INIT: assemble the scratch-demo build context
# (CONTEXT/Dockerfile, CONTEXT/rootfs/) from the static agent-init, the
# static busybox of Debian's busybox-static and the files next to this
# script.  No registry, no network: `docker build CONTEXT` then needs only
# local files (FROM scratch).
set -eu
ctx=$1
ai=$2
here=$(cd "$(dirname "$0")" && pwd)
bb=$(command -v busybox || true)
[ -n "$bb" ] || { echo "mkrootfs: busybox not found (install busybox-static)" >&2; exit 1; }
# ldd fails on a static executable ("not a dynamic executable").
if ldd "$bb" >/dev/null 2>&1; then
	echo "mkrootfs: $bb is not static (install busybox-static)" >&2
	exit 1
fi
r=$ctx/rootfs
rm -rf "$ctx"
mkdir -p "$r/bin" "$r/usr/local/bin" "$r/etc" "$r/app" "$r/srv/www" \
	"$r/proc" "$r/sys" "$r/dev" "$r/run" "$r/tmp" "$r/root"
chmod 1777 "$r/tmp"
cp "$ai" "$r/usr/local/bin/agent-init"
cp "$bb" "$r/bin/busybox"
for a in sh ash cat echo env grep httpd id kill ls mkdir ps rm sleep \
	touch wget nslookup head tail true false pidof; do
	ln -s busybox "$r/bin/$a"
done
cp "$here/agent-init.conf" "$r/etc/agent-init.conf"
cp "$here/agent.sh" "$r/app/agent.sh"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$r/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
printf '<html><body>agent-init scratch-demo gateway</body></html>\n' >"$r/srv/www/index.html"
cp "$here/Dockerfile" "$ctx/Dockerfile"
