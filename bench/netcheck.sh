#!/bin/bash
# bench/netcheck.sh — how long agent-init's startup checks take (issue 4):
#
#   make bench                 (bench/run.sh calls this at its end)
#   AGENT_INIT=/abs/path/agent-init bench/netcheck.sh
#
# Two parts, everything in two network namespaces created here (a sandbox
# and a server side joined by a veth pair, no default route anywhere, so no
# packet can leave them):
#   a  the full default check set (`agent-init netcheck`: resolver, proxy,
#      capabilities, environment) with a resolv.conf naming a working
#      dnsmasq, no proxy: hyperfine -N, median; glibc's `getent ahosts`
#      and busybox `nslookup` against the same dnsmasq for scale
#   b  time to a verdict when the nameserver drops every packet (nft DROP
#      of udp/tcp 53 in the server's INPUT hook), default check_timeout
#      (2 s): `agent-init netcheck`, and with a tcp target whose name needs
#      that nameserver, next to how long `getent hosts NAME`, `getent
#      ahosts NAME` (glibc, default resolv.conf options) and busybox
#      `nslookup NAME SERVER` take to give up
#
# glibc reads /etc/resolv.conf, /etc/hosts and /etc/nsswitch.conf: the
# peers (and hyperfine, which runs them) run in a private mount namespace
# (`unshare --mount`) of the sandbox's network namespace, where files of
# this run are bind-mounted over those three (and a tmpfs over nscd's
# socket directory, if there is one); the machine's files are never read.
# agent-init gets --resolv-conf/--hosts naming the same files.
#
# Prints markdown tables and appends them to bench/RESULTS.md as the
# "## Netcheck benchmarks" section (replacing an earlier one).  Every
# process started in the background is recorded by pid and killed (with
# its descendants) on exit; the namespaces are deleted by name.
set -euo pipefail

# --- internal: run a command inside the private mount namespace ---------------
#   netcheck.sh --inside RESOLV HOSTS NSSWITCH OUT -- COMMAND...
# bind-mounts the three files, runs COMMAND with stdout+stderr to OUT and
# prints "MS STATUS" (wall time of COMMAND, measured in here).
if [ "${1:-}" = --inside ]; then
	[ "$6" = -- ] || exit 64
	mount --bind "$2" /etc/resolv.conf
	mount --bind "$3" /etc/hosts
	mount --bind "$4" /etc/nsswitch.conf
	for d in /run/nscd /var/run/nscd; do
		if [ -d "$d" ] && [ ! -L "$d" ]; then mount -t tmpfs none "$d"; fi
	done
	out=$5
	shift 6
	t0=$EPOCHREALTIME
	set +e
	"$@" >"$out" 2>&1
	rc=$?
	t1=$EPOCHREALTIME
	echo "$(((${t1/./} - ${t0/./}) / 1000)) $rc"
	exit 0
fi

cd "$(dirname "$0")/.."
ROOT=$PWD
B=$ROOT/build/bench
D=$B/nc
RESULTS=${RESULTS:-$ROOT/bench/RESULTS.md}
MARK="## Netcheck benchmarks"
SELF=$ROOT/bench/netcheck.sh

# --- knobs (defaults keep the run under a minute; RESULTS= another file) ------------
RUNS=${RUNS:-30}               # part a: hyperfine runs per command
DROP_RUNS=${DROP_RUNS:-5}      # part b: agent-init runs per variant
PEER_RUNS=${PEER_RUNS:-1}      # part b: runs per peer (glibc: 10-20 s each)
NAME=${NAME:-api.example.test} # part b: the name the peers look up
CHECK_TIMEOUT_MS=2000          # agent-init's default check_timeout
SLACK_MS=100                   # a verdict this late is still "at" the deadline

BENCH_NAME=bench/netcheck
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

# --- preconditions -------------------------------------------------------------
[ "$(id -u)" = 0 ] || fail "must run as root (network namespaces)"
[ -n "${AGENT_INIT:-}" ] || fail "set AGENT_INIT to the agent-init binary (make bench does)"
[ -x "$AGENT_INIT" ] || fail "AGENT_INIT=$AGENT_INIT is not an executable file"
for t in ip nft nsenter unshare dnsmasq hyperfine getent busybox awk sort mount; do
	command -v "$t" >/dev/null 2>&1 ||
		fail "missing tool '$t' (apt-get install iproute2 nftables util-linux dnsmasq hyperfine busybox-static)"
done
[ -n "${EPOCHREALTIME:-}" ] || fail "bash 5 needed (EPOCHREALTIME)"
for f in /etc/resolv.conf /etc/hosts /etc/nsswitch.conf; do
	# bind mounts need an existing file to cover (a dangling symlink is not)
	[ -f "$f" ] || fail "$f is not a file here: cannot bind-mount over it"
done

TAG=$$
SBX=aincb-sbx-$TAG
SRV=aincb-srv-$TAG
VS=aincbs$TAG
VS=${VS:0:15}
VV=aincbv$TAG
VV=${VV:0:15}
NET=10.232.0
SBX_IP=$NET.2
DNS_IP=$NET.1  # dnsmasq
DROP_IP=$NET.4 # udp and tcp 53 dropped in the server's INPUT hook

# --- cleanup ----------------------------------------------------------------------
NETNS=()
kill_tree() { # PID: SIGKILL it and its descendants (children first listed)
	local p=$1 c
	kill -STOP "$p" 2>/dev/null || true
	# shellcheck disable=SC2013 # the files are lines of pids
	for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do kill_tree "$c"; done
	kill -KILL "$p" 2>/dev/null || true
}
cleanup() {
	local p n
	for p in "${STARTED[@]+"${STARTED[@]}"}"; do
		kill -0 "$p" 2>/dev/null && kill_tree "$p"
	done
	for p in "${STARTED[@]+"${STARTED[@]}"}"; do
		wait "$p" 2>/dev/null || true
	done
	for n in "${NETNS[@]+"${NETNS[@]}"}"; do
		ip netns del "$n" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

forget() {
	local q keep=()
	for q in "${STARTED[@]+"${STARTED[@]}"}"; do
		[ "$q" = "$1" ] || keep+=("$q")
	done
	STARTED=("${keep[@]+"${keep[@]}"}")
}

# stats of the numbers on stdin: "median min max n" ("- - - 0" if none)
stats() {
	sort -g | awk '{ v[NR] = $1 }
		END { if (!NR) { print "- - - 0"; exit }
		      printf "%s %s %s %d\n", v[int((NR + 1) / 2)], v[1], v[NR], NR }'
}

rm -rf "$D"
mkdir -p "$D"

# --- the namespaces -------------------------------------------------------------
log "namespaces $SBX and $SRV"
for n in "$SBX" "$SRV"; do
	ip netns add "$n" || fail "ip netns add $n"
	NETNS+=("$n")
	ip -n "$n" link set lo up
done
ip link add "$VS" netns "$SBX" type veth peer name "$VV" netns "$SRV" ||
	fail "cannot create the veth pair"
ip -n "$SBX" addr add "$SBX_IP/24" dev "$VS"
ip -n "$SRV" addr add "$DNS_IP/24" dev "$VV"
ip -n "$SRV" addr add "$DROP_IP/24" dev "$VV"
ip -n "$SBX" link set "$VS" up
ip -n "$SRV" link set "$VV" up
ip netns exec "$SRV" nft -f - <<EOF || fail "nft drop rules"
table inet aincb {
	chain input {
		type filter hook input priority 0; policy accept;
		ip daddr $DROP_IP udp dport 53 drop
		ip daddr $DROP_IP tcp dport 53 drop
	}
}
EOF

# dnsmasq: gw.test has an A record; every other name is NXDOMAIN (local
# only, no upstream); the root zone has an NS record (--dns-rr, type 2,
# "ns.test" in wire format) so that the default query (". NS") is answered.
nsenter --net=/run/netns/"$SRV" dnsmasq -k --conf-file=/dev/null --no-resolv \
	--no-hosts --no-poll --local=/#/ --host-record=gw.test,"$DNS_IP" \
	--dns-rr=.,2,026e73047465737400 --listen-address="$DNS_IP" \
	--bind-interfaces --port=53 --user=root --log-facility="$D/dnsmasq.log" \
	>"$D/dnsmasq.out" 2>&1 &
DNSMASQ=$!
STARTED+=("$DNSMASQ")
for _ in $(seq 200); do
	grep -q started "$D/dnsmasq.log" 2>/dev/null && break
	kill -0 "$DNSMASQ" 2>/dev/null || fail "dnsmasq died: $(cat "$D/dnsmasq.out")"
	sleep 0.05
done
grep -q started "$D/dnsmasq.log" 2>/dev/null || fail "dnsmasq not started after 10 s"

echo "nameserver $DNS_IP" >"$D/resolv.ok"
echo "nameserver $DROP_IP" >"$D/resolv.drop"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$D/hosts"
echo "hosts: files dns" >"$D/nsswitch.conf"

# COMMAND... in the sandbox's network namespace and a private mount
# namespace with RESOLV over /etc/resolv.conf; prints "MS STATUS"
inside() { # RESOLV OUT -- COMMAND...
	local r=$1 o=$2
	shift 3
	nsenter --net=/run/netns/"$SBX" unshare --mount --propagation private \
		"$SELF" --inside "$r" "$D/hosts" "$D/nsswitch.conf" "$o" -- "$@"
}

# sanity: the working resolver answers, the dropping one does not
out=$(inside "$D/resolv.ok" "$D/sanity.json" -- \
	"$AGENT_INIT" netcheck --json --resolv-conf "$D/resolv.ok" --hosts "$D/hosts")
grep -q '"check":"resolver".*"code":"ok"' "$D/sanity.json" ||
	fail "agent-init netcheck against dnsmasq: no resolver ok ($(cat "$D/sanity.json"))"
read -r _ st < <(inside "$D/resolv.ok" "$D/sanity.getent" -- getent ahosts gw.test)
[ "$st" = 0 ] || fail "getent ahosts gw.test against dnsmasq failed: $(cat "$D/sanity.getent")"
log "sanity: netcheck answered in ${out% *} ms; getent ahosts gw.test ok"

# ==================================================================================
# part a: the default check set against a working resolver
# ==================================================================================
NC_OK="$AGENT_INIT netcheck --resolv-conf $D/resolv.ok --hosts $D/hosts"
log "part a: hyperfine -N, $RUNS runs each"
inside "$D/resolv.ok" "$D/hyperfine.txt" -- hyperfine -N --warmup 3 --runs "$RUNS" \
	--style basic --ignore-failure --export-csv "$D/hyperfine.csv" \
	-n true /bin/true \
	-n netcheck "$NC_OK" \
	-n netcheck-json "$NC_OK --json" \
	-n getent "getent ahosts gw.test" \
	-n nslookup "busybox nslookup gw.test $DNS_IP" >/dev/null ||
	fail "hyperfine failed (see $D/hyperfine.txt)"
hf() { # NAME -> "median min max" in ms
	awk -F, -v n="$1" '$1 == n { printf "%.2f %.2f %.2f\n", $4 * 1000, $7 * 1000, $8 * 1000 }' \
		"$D/hyperfine.csv"
}
for n in true netcheck netcheck-json getent nslookup; do
	[ -n "$(hf "$n")" ] || fail "no '$n' row in $D/hyperfine.csv"
done
# agent-init's own figure: the `checks` event's elapsed_ms, same runs again
: >"$D/a-elapsed.raw"
for i in $(seq "$RUNS"); do
	# shellcheck disable=SC2086 # the command is words
	inside "$D/resolv.ok" "$D/a-$i.json" -- $NC_OK --json >/dev/null
	sed -n 's/.*"agent_init":"checks".*"elapsed_ms":\([0-9]*\).*/\1/p' "$D/a-$i.json" \
		>>"$D/a-elapsed.raw"
done
read -r A_EL_MED A_EL_MIN A_EL_MAX A_EL_N < <(stats <"$D/a-elapsed.raw")
[ "$A_EL_N" = "$RUNS" ] || fail "only $A_EL_N of $RUNS runs gave a checks event"
A_VERD=$(sed -n 's/.*"agent_init":"checks",[^,]*,\("ok".*"skip":[0-9]*\).*/\1/p' \
	"$D/a-1.json" | tr -d '"' | sed 's/,/, /g; s/:/ /g')

row_a() { # LABEL NAME
	local m lo hi
	read -r m lo hi < <(hf "$2")
	echo "| $1 | $RUNS | $m | $lo | $hi |"
}
TABLE_A=$(
	echo "| command (sandbox namespace, working dnsmasq) | runs | median (ms) | min (ms) | max (ms) |"
	echo "|---|---:|---:|---:|---:|"
	row_a "\`agent-init netcheck\` (default set: resolver, proxy, capabilities, environment)" netcheck
	row_a "\`agent-init netcheck --json\`" netcheck-json
	echo "| … its \`checks\` event's \`elapsed_ms\` (first check start → last verdict) | $A_EL_N | $A_EL_MED | $A_EL_MIN | $A_EL_MAX |"
	row_a "\`getent ahosts gw.test\` (glibc getaddrinfo, A + AAAA)" getent
	row_a "\`busybox nslookup gw.test $DNS_IP\`" nslookup
	row_a "\`/bin/true\` (exec baseline)" true
)

# ==================================================================================
# part b: a nameserver that drops everything
# ==================================================================================
log "part b: dropped nameserver; peers in the background, agent-init meanwhile"
PEERS=(getent-hosts getent-ahosts nslookup)
declare -A PCMD PPID_
PCMD[getent-hosts]="getent hosts $NAME"
PCMD[getent-ahosts]="getent ahosts $NAME"
PCMD[nslookup]="busybox nslookup $NAME $DROP_IP"
for p in "${PEERS[@]}"; do
	(
		for i in $(seq "$PEER_RUNS"); do
			# shellcheck disable=SC2086 # the command is words
			inside "$D/resolv.drop" "$D/b-$p-$i.out" -- ${PCMD[$p]}
		done
	) >"$D/b-$p.raw" 2>&1 &
	PPID_[$p]=$!
	STARTED+=("$!")
done

# agent-init, one variant after the other while the peers time out
declare -A AV
AV[default]="$AGENT_INIT netcheck --json --resolv-conf $D/resolv.drop --hosts $D/hosts"
AV[target]="$AGENT_INIT netcheck --json --resolv-conf $D/resolv.drop --hosts $D/hosts $NAME:443"
for v in default target; do
	: >"$D/b-ai-$v.wall"
	: >"$D/b-ai-$v.elapsed"
	: >"$D/b-ai-$v.codes"
	for i in $(seq "$DROP_RUNS"); do
		# shellcheck disable=SC2086 # the command is words
		read -r ms _ < <(inside "$D/resolv.drop" "$D/b-ai-$v-$i.json" -- ${AV[$v]})
		echo "$ms" >>"$D/b-ai-$v.wall"
		# the slowest verdict of the run, and the codes of the failing ones
		sed -n 's/.*"agent_init":"check".*"elapsed_ms":\([0-9]*\).*/\1/p' \
			"$D/b-ai-$v-$i.json" | sort -g | tail -1 >>"$D/b-ai-$v.elapsed"
		sed -n 's/.*"check":"\([^"]*\)".*"status":"fail","code":"\([^"]*\)".*/\1 \2/p' \
			"$D/b-ai-$v-$i.json" >>"$D/b-ai-$v.codes"
	done
done

for p in "${PEERS[@]}"; do
	# bounded: glibc gives up after 2 x 5 s per query, at most 4 queries
	for _ in $(seq 1200); do
		kill -0 "${PPID_[$p]}" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "${PPID_[$p]}" 2>/dev/null && fail "$p still running after 60 s more"
	wait "${PPID_[$p]}" || fail "$p: $(cat "$D/b-$p.raw")"
	forget "${PPID_[$p]}"
done

GOAL_MISSES=()
TABLE_B=$(
	echo "| command (sandbox namespace, nameserver drops udp/tcp 53) | runs | median (ms) | max (ms) | outcome |"
	echo "|---|---:|---:|---:|---|"
	for v in default target; do
		read -r wm _ wx _ < <(stats <"$D/b-ai-$v.wall")
		read -r em _ ex en < <(stats <"$D/b-ai-$v.elapsed")
		codes=$(sort -u "$D/b-ai-$v.codes" | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')
		if [ "$v" = default ]; then
			label="\`agent-init netcheck\` (default set), wall"
		else
			label="\`agent-init netcheck $NAME:443\` (a tcp target needing that nameserver), wall"
		fi
		echo "| $label | $DROP_RUNS | $wm | $wx | verdicts: $codes |"
		echo "| … its slowest \`check\` verdict's \`elapsed_ms\` | $en | $em | $ex | check_timeout = ${CHECK_TIMEOUT_MS} ms |"
	done
	for p in "${PEERS[@]}"; do
		read -r m _ x n < <(awk '{ print $1 }' "$D/b-$p.raw" | stats)
		sts=$(awk '{ print $2 }' "$D/b-$p.raw" | sort -u | tr '\n' ' ' | sed 's/ $//')
		echo "| \`${PCMD[$p]}\` | $n | $m | $x | gives up, exit status $sts |"
	done
)
# the goal: every agent-init verdict within check_timeout, every peer >= 5 s
for v in default target; do
	read -r _ _ ex _ < <(stats <"$D/b-ai-$v.elapsed")
	[ "$ex" -le $((CHECK_TIMEOUT_MS + SLACK_MS)) ] ||
		GOAL_MISSES+=("agent-init ($v): a verdict at $ex ms (check_timeout $CHECK_TIMEOUT_MS ms)")
	grep -q 'timeout\|dns_failed' "$D/b-ai-$v.codes" ||
		GOAL_MISSES+=("agent-init ($v): no timeout/dns_failed verdict: $(sort -u "$D/b-ai-$v.codes" | tr '\n' ' ')")
done
for p in "${PEERS[@]}"; do
	read -r _ lo _ _ < <(awk '{ print $1 }' "$D/b-$p.raw" | stats)
	[ "$lo" -ge 5000 ] || GOAL_MISSES+=("${PCMD[$p]} gave up after $lo ms (< 5 s)")
done

# ==================================================================================
SECTION=$(
	cat <<EOF
$MARK

$(results_header "\`bench/netcheck.sh\` (run by \`make bench\` after bench/supervisor.sh)" libc6 busybox-static dnsmasq hyperfine)

Two network namespaces made for the run (sandbox $SBX_IP, server side
$DNS_IP and $DROP_IP on a veth pair, no default route); dnsmasq on
$DNS_IP answers \`gw.test\` and the root zone's NS.  agent-init gets
\`--resolv-conf\`/\`--hosts\` files of the run; glibc and busybox run in a
private mount namespace where the same files are bind-mounted over
/etc/resolv.conf, /etc/hosts and /etc/nsswitch.conf (\`hosts: files dns\`).

### The default checks against a working resolver

$TABLE_A

\`hyperfine -N --warmup 3 --runs $RUNS\`, run inside the sandbox namespace
(so no \`nsenter\` per run).  The default set, no \`-c\` file and no proxy
variable: ${A_VERD:-?}.  The \`elapsed_ms\` row comes from $RUNS more runs
of \`netcheck --json\`.

### Time to a verdict when the nameserver drops everything

$TABLE_B

agent-init with its default \`check_timeout\` (2 s), $DROP_RUNS runs per
line; wall time measured around the command inside the namespace.  glibc
with the default resolv.conf options (\`timeout:5 attempts:2\`): \`getent
hosts\` asks for AAAA then A (gethostbyname2), \`getent ahosts\` for both at
once (getaddrinfo), each query 2 × 5 s; busybox \`nslookup\` gives up after
5 s.  The peers ran in the background while agent-init ran (they only
wait on timers).  Goal: every agent-init verdict within check_timeout
(+${SLACK_MS} ms of scheduling slack) while the others take 5 s or more.

EOF
	if [ "${#GOAL_MISSES[@]}" -gt 0 ]; then
		echo "Goal missed:"
		for m in "${GOAL_MISSES[@]}"; do echo "- $m"; done
	else
		echo "Goal met in this run."
	fi
	echo
	echo "Raw data: build/bench/nc/ (hyperfine.csv, b-*.raw, b-ai-*.json)."
)

echo
echo "$SECTION"

# run.sh rewrites the file before the supervisor and netcheck parts.
results_put "$MARK" "$SECTION" "$RESULTS"
log "appended to $RESULTS"
