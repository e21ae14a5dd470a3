#!/bin/sh
# layers.sh: every #include "..." of the product points down a layer, or
# stays in its own folder.  The layers, bottom to top:
#
#   core/        loop, signals, events, sink, values, args, config
#   supervisor/  services (uses core/)        netcheck/  checks (uses core/)
#   init/        the program: main, control, reap (uses everything)
#
# supervisor/ and netcheck/ are siblings: neither includes the other.
# Prints one line per include that points up or sideways, and fails.
set -u
cd "$(dirname "$0")/.."
LAYERS="core supervisor netcheck init"
# One line per header: "NAME FOLDER".
homes=$(for d in $LAYERS; do for h in "$d"/*.h; do
	[ -f "$h" ] && echo "$(basename "$h") $d"
done; done)
# shellcheck disable=SC2086
grep -Hn '^#include "' $(for d in $LAYERS; do echo "$d"/*.[ch]; done) |
	awk -v homes="$homes" '
	BEGIN {
		n = split(homes, h, "\n")
		for (i = 1; i <= n; i++) { split(h[i], kv, " "); home[kv[1]] = kv[2] }
		may["core"] = " core "
		may["supervisor"] = " core supervisor "
		may["netcheck"] = " core netcheck "
		may["init"] = " core supervisor netcheck init "
		bad = 0
	}
	{
		split($0, part, ":")
		file = part[1]; line = part[2]
		layer = file; sub(/\/.*/, "", layer)
		hdr = $0; sub(/^[^"]*"/, "", hdr); sub(/".*/, "", hdr)
		if (hdr == "agent-init-deps.h") {
			# written by the deps build: the libraries versions
		} else if (!(hdr in home)) {
			printf "layers: %s:%s: \"%s\" is in no layer\n", file, line, hdr
			bad++
		} else if (index(may[layer], " " home[hdr] " ") == 0) {
			printf "layers: %s:%s: %s/ includes %s/%s (a layer above or beside it)\n", file, line, layer, home[hdr], hdr
			bad++
		}
	}
	END { exit bad > 0 }'
