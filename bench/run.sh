#!/bin/bash
# bench/run.sh — agent-init side by side with tini, tini-static, dumb-init and
# catatonit (the Debian packages), all measured in one run on this machine.
#
#   make bench                                  (builds, then runs this)
#   AGENT_INIT=/abs/path/agent-init bench/run.sh
#
# Rows (lower is better everywhere; the ratio is agent-init / best peer,
# the best peer being the best of the four others):
#   1 binary size            stat -c %s of the file
#   2 idle RSS               VmRSS of the init as PID 1 (unshare --pid --fork
#                            --mount-proc) with one `sleep 30` child
#   3 idle wake-ups          voluntary+nonvoluntary ctxt switch delta of PID 1
#                            over the same 10 s window, all inits at once
#                            (and, beside the table, agent-init with a
#                            [check] re-run every 5 s, with a service held
#                            by a check that passed, and with a config
#                            service without and with liveness: issue 16)
#   4 `INIT /bin/true`       hyperfine -N, not PID 1 (tini with -s)
#   5 signal forwarding      SIGUSR1 host -> init (PID 1) -> sigpong, timed at
#                            the moment sigpong took it (its own clock),
#                            median and p99 (build/bench/benchdrv, sigpong)
#   6 reaping 20,000 orphans clone -> init exit, init as PID 1, the child
#                            (orphans) exits only once all are reaped
#   7 the shutdown path      SIGTERM host -> init (PID 1) -> the child's own
#                            handler (sigpong term), a fresh init each time,
#                            stdout a pipe with a reader (as under docker);
#                            agent-init also with a config (two services);
#                            again on one CPU, with two reference loops
#   8 `INIT /bin/true` as PID 1   clone -> exit (benchdrv reap)
#
# Prints a markdown table and writes it, with a header, to bench/RESULTS.md.
# Helper programs are built from bench/*.c into build/bench/.  Every process
# started here is recorded by pid and killed on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
B=$ROOT/build/bench
LOG=$B/inits.log
RESULTS=$ROOT/bench/RESULTS.md

# --- knobs (defaults keep the whole run well under 3 minutes) ---------------
IDLE_S=${IDLE_S:-10}            # row 3 window
HF_RUNS=${HF_RUNS:-1000}        # row 4 runs per command, split into
HF_ROUNDS=${HF_ROUNDS:-5}       # ... this many interleaved hyperfine rounds
SIG_PASSES=${SIG_PASSES:-8}     # row 5: passes x rounds, interleaved by init
SIG_ROUNDS=${SIG_ROUNDS:-250}
SIG_WARMUP=${SIG_WARMUP:-100}
STOP_PASSES=${STOP_PASSES:-5}   # row 7: passes x fresh inits, interleaved
STOP_ROUNDS=${STOP_ROUNDS:-40}
STOP_SETTLE_MS=${STOP_SETTLE_MS:-20}  # row 7: ready -> SIGTERM, the init idle
STOP1_PASSES=${STOP1_PASSES:-12} # row 7 on one CPU (a few us apart: more samples)
START1_PASSES=${START1_PASSES:-5}  # row 8: passes x runs, interleaved
START1_RUNS=${START1_RUNS:-100}
ORPHANS=${ORPHANS:-20000}       # row 6
REAP_PASSES=${REAP_PASSES:-5}   # row 6: median of the passes

BENCH_NAME=bench
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

# --- preconditions -------------------------------------------------------------
[ "$(id -u)" = 0 ] || fail "must run as root (PID namespaces need CAP_SYS_ADMIN)"
[ -n "${AGENT_INIT:-}" ] || fail "set AGENT_INIT to the agent-init binary (make bench does)"
[ -x "$AGENT_INIT" ] || fail "AGENT_INIT=$AGENT_INIT is not an executable file"
for t in musl-gcc hyperfine unshare awk sort stat timeout uname date nproc; do
	command -v "$t" >/dev/null 2>&1 ||
		fail "missing tool '$t' (apt-get install musl-tools hyperfine util-linux coreutils gawk)"
done
for f in /usr/bin/tini /usr/bin/tini-static /usr/bin/dumb-init /usr/bin/catatonit \
	/bin/true /bin/sleep; do
	[ -x "$f" ] || fail "missing $f (apt-get install tini dumb-init catatonit)"
done
[ -d "$ROOT/build/deps/kernel-headers" ] || fail "build/deps/kernel-headers missing (make deps)"
[ -r /proc/self/status ] || fail "/proc not mounted"

NAMES=(agent-init tini tini-static dumb-init catatonit)
declare -A BIN PID1 PLAIN
BIN[agent-init]=$AGENT_INIT
BIN[tini]=/usr/bin/tini
BIN[tini-static]=/usr/bin/tini-static
BIN[dumb-init]=/usr/bin/dumb-init
BIN[catatonit]=/usr/bin/catatonit
# argv prefix when the init is PID 1 (the child command follows)
# --no-checks: the peers check nothing, and the default resolver check
# would query the machine's own nameserver (packet hygiene).  The row
# "agent-init-checks" below measures the checks, in a network namespace.
PID1[agent-init]="$AGENT_INIT --no-checks --events file:/dev/null --"
PID1[tini]="/usr/bin/tini --"
PID1[tini-static]="/usr/bin/tini-static --"
PID1[dumb-init]="/usr/bin/dumb-init"
PID1[catatonit]="/usr/bin/catatonit --"
# As PID 1 agent-init makes its control socket, by default in
# /run/agent-init/, which this machine shares with every agent-init running
# on it (tests, other benches): a path of the run's own keeps the figures
# hermetic.  It is made and removed by each run, as in a container.
export AGENT_INIT_CONTROL_SOCKET=$B/control.sock
# ... and when it is a plain child of hyperfine (tini: -s, subreaper, no warning)
PLAIN[agent-init]="$AGENT_INIT --no-checks --events file:/dev/null --"
PLAIN[tini]="/usr/bin/tini -s --"
PLAIN[tini-static]="/usr/bin/tini-static -s --"
PLAIN[dumb-init]="/usr/bin/dumb-init"
PLAIN[catatonit]="/usr/bin/catatonit --"

# agent-init with what issue 16 configures, in the idle window only, each in
# a network namespace of its own (unshare --net: only a loopback, down, so
# the check's connect fails at once and no packet leaves): what a [check]
# with `interval =` costs, and that a service held by a check (passed at
# startup) costs nothing once it started.
VARIANTS=(agent-init-interval agent-init-gate)
mkdir -p "$B"
cat >"$B/idle-interval.conf" <<EOF
[init]
control_socket =
[check tcp:gw]
target = 127.0.0.1:9
interval = 5s
EOF
cat >"$B/idle-gate.conf" <<EOF
[init]
control_socket =
[check capabilities]
[service held]
command = /bin/sleep 30
after = check:capabilities
EOF
PID1[agent-init-interval]="--net $AGENT_INIT -c $B/idle-interval.conf --events file:/dev/null --"
PID1[agent-init-gate]="--net $AGENT_INIT -c $B/idle-gate.conf --events file:/dev/null --"

# --- cleanup: every background pid we start is listed here ----------------------
cleanup() {
	stop_started
	rm -f "$B/fifo" "$B/out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- build the helpers ------------------------------------------------------------
mkdir -p "$B"
: >"$LOG"
for p in sigpong orphans benchdrv notifier idle refloop; do
	musl-gcc -static -O2 -Wall -Wextra -Werror \
		-isystem "$ROOT/build/deps/kernel-headers" \
		-o "$B/$p" "$ROOT/bench/$p.c" || fail "cannot build bench/$p.c"
done

declare -A R   # R[row,init] = value
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# --- row 1: size ----------------------------------------------------------------------
for n in "${NAMES[@]}"; do
	R[size,$n]=$(stat -L -c %s "${BIN[$n]}")
done

# --- rows 2 and 3: idle RSS and wake-ups, all inits concurrently ---------------------------
# Two more agent-inits in the same window, each with one config service
# (`notifier`: READY=1, then nothing, or WATCHDOG=1 every 2 s): what
# liveness costs when idle.  Without it: nothing scheduled, no wake-up.
# With it: one wake-up per health round (file: probe every 1 s), plus the
# service's own WATCHDOG=1 datagrams (every 2 s) and the watchdog timer
# (5 s, woken once per period however often WATCHDOG=1 comes).
# No control socket: every agent-init that starts as PID 1 on this machine
# looks at the default one (is it stale?), which would wake ours.  The
# service names differ: the notify socket's abstract name holds our pid,
# 1 in both namespaces, in the one network namespace.
cat >"$B/idle-plain.conf" <<CONF
[init]
control_socket =
[service plain]
command = $B/notifier - 0
ready = notify
CONF
cat >"$B/idle-live.conf" <<CONF
[init]
control_socket =
[service live]
command = $B/notifier - 0
ready = notify
health = file:/
health_interval = 1s
watchdog = 5s
env = NOTIFIER_WATCHDOG_MS=2000
CONF
OWN=(agent-init-config agent-init-liveness)
PID1[agent-init-config]="$AGENT_INIT --no-checks --events file:/dev/null -c $B/idle-plain.conf"
PID1[agent-init-liveness]="$AGENT_INIT --no-checks --events file:/dev/null -c $B/idle-live.conf"
IDLE=("${NAMES[@]}" "${VARIANTS[@]}" "${OWN[@]}")
log "idle: ${#IDLE[@]} inits as PID 1 with 'sleep 30' (or a config service), ${IDLE_S} s window"
status_field() { # PID FIELD -> value (first number after the field name)
	awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status"
}
declare -A UPID IPID
for n in "${IDLE[@]}"; do
	cmd=(/bin/sleep 30)
	[[ " ${OWN[*]} " == *" $n "* ]] && cmd=()
	# --kill-child: if unshare dies, its child (the init) gets SIGKILL
	# shellcheck disable=SC2086
	unshare --pid --fork --mount-proc --kill-child ${PID1[$n]} "${cmd[@]}" \
		>>"$LOG" 2>&1 </dev/null &
	UPID[$n]=$!
	STARTED+=("$!")
done
for n in "${IDLE[@]}"; do
	u=${UPID[$n]} ip=
	# the init is unshare's child whose NSpid ends in 1, and it has its own child
	for _ in $(seq 1000); do
		# shellcheck disable=SC2013 # the file is one line of pids
		for c in $(cat "/proc/$u/task/$u/children" 2>/dev/null); do
			nspid=$(awk '$1 == "NSpid:" { print $NF }' "/proc/$c/status" 2>/dev/null || true)
			if [ "$nspid" = 1 ] && [ -n "$(cat "/proc/$c/task/$c/children" 2>/dev/null)" ]; then
				ip=$c
			fi
		done
		[ -n "$ip" ] && break
		sleep 0.01
	done
	[ -n "$ip" ] || fail "$n: no PID 1 with a child under unshare $u after 10 s (see $LOG)"
	IPID[$n]=$ip
	STARTED+=("$ip")
done
sleep 1 # let every init settle into its idle state
declare -A CS0
for n in "${IDLE[@]}"; do
	p=${IPID[$n]}
	R[rss,$n]=$(status_field "$p" VmRSS)
	CS0[$n]=$(($(status_field "$p" voluntary_ctxt_switches) + $(status_field "$p" nonvoluntary_ctxt_switches)))
done
sleep "$IDLE_S"
for n in "${IDLE[@]}"; do
	p=${IPID[$n]}
	kill -0 "$p" 2>/dev/null || fail "$n exited during the idle window (see $LOG)"
	cs1=$(($(status_field "$p" voluntary_ctxt_switches) + $(status_field "$p" nonvoluntary_ctxt_switches)))
	R[wake,$n]=$((cs1 - CS0[$n]))
done
# Stop: SIGTERM to each PID 1 (every init forwards it to `sleep`, which dies,
# then the init exits and so does unshare); SIGKILL after 5 s.  SIGKILL first
# would also work (PID 1 dies, the kernel kills its namespace) but makes
# util-linux 2.38 unshare print "sigprocmask unblock failed".
exited() { # PID of our child -> true once it is a zombie or gone
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}
for n in "${IDLE[@]}"; do kill -TERM "${IPID[$n]}" 2>/dev/null || true; done
for n in "${IDLE[@]}"; do
	for _ in $(seq 500); do exited "${UPID[$n]}" && break; sleep 0.01; done
	if ! exited "${UPID[$n]}"; then
		log "$n ignored SIGTERM for 5 s; SIGKILL"
		kill -KILL "${IPID[$n]}" 2>/dev/null || true
	fi
	wait "${UPID[$n]}" 2>/dev/null || true
done
STARTED=() # all reaped: never signal these pids again (they may be reused)

# --- row 4: startup, hyperfine -N -----------------------------------------------------------
# HF_ROUNDS hyperfine runs of HF_RUNS/HF_ROUNDS each, command order reversed
# every other round; a command's figure is the median of its per-round means,
# so a burst of load from a neighbour spoils one round, not the row.
log "startup: hyperfine -N --warmup 20, $HF_ROUNDS rounds x $((HF_RUNS / HF_ROUNDS)) runs"
HF_CMDS=(bare /bin/true)
for n in "${NAMES[@]}"; do HF_CMDS+=("$n" "${PLAIN[$n]} /bin/true"); done
HF_CMDS+=(unshare-net "unshare --net /bin/true")
HF_CMDS+=(agent-init-checks "unshare --net $AGENT_INIT --events file:/dev/null -- /bin/true")
: >"$B/hyperfine.txt"
rm -f "$B"/hyperfine-[0-9]*.csv
for round in $(seq "$HF_ROUNDS"); do
	HF_ARGS=(-N --warmup 20 --runs $((HF_RUNS / HF_ROUNDS)) --style basic
		--export-csv "$B/hyperfine-$round.csv")
	for ((i = 0; i < ${#HF_CMDS[@]}; i += 2)); do
		j=$i
		[ $((round % 2)) = 0 ] && j=$((${#HF_CMDS[@]} - 2 - i))
		HF_ARGS+=(-n "${HF_CMDS[j]}" "${HF_CMDS[j + 1]}")
	done
	hyperfine "${HF_ARGS[@]}" >>"$B/hyperfine.txt" 2>&1 ||
		{ cat "$B/hyperfine.txt" >&2; fail "hyperfine failed"; }
done
hf_mean_ms() { # NAME -> median over the rounds of the mean, in ms
	cat "$B"/hyperfine-[0-9]*.csv | awk -F, -v n="$1" '$1 == n { print $2 * 1000 }' |
		sort -g | awk '{ v[NR] = $1 } END { if (!NR) exit 1; printf "%.3f", v[int((NR + 1) / 2)] }'
}
BARE_MS=$(hf_mean_ms bare) || fail "no 'bare' row in hyperfine.csv"
for n in "${NAMES[@]}" unshare-net agent-init-checks; do
	m=$(hf_mean_ms "$n") || fail "no '$n' row in hyperfine.csv"
	R[start,$n]=$m
	R[over,$n]=$(awk -v a="$m" -v b="$BARE_MS" 'BEGIN { printf "%.3f", a - b }')
done

# --- row 5: signal forwarding latency -----------------------------------------------------
log "signals: $SIG_PASSES passes x ($SIG_WARMUP warm-up + $SIG_ROUNDS rounds) per init, interleaved"
for n in "${NAMES[@]}"; do : >"$B/sig-$n.raw"; done
for pass in $(seq "$SIG_PASSES"); do
	for n in "${NAMES[@]}"; do
		# shellcheck disable=SC2086
		out=$(timeout 120 "$B/benchdrv" sig "$B/fifo" "$SIG_WARMUP" "$SIG_ROUNDS" \
			"$LOG" "$B/sig-$n.raw" -- ${PID1[$n]} "$B/sigpong" "$B/fifo") ||
			fail "signal bench failed for $n (see $LOG)"
		log "  pass $pass $n: median/p99 us = $out"
	done
done
for n in "${NAMES[@]}"; do
	read -r med p99 < <(sort -n "$B/sig-$n.raw" | awk '{ v[NR] = $1 }
		END { m = int((NR + 1) / 2); p = int((NR * 99 + 99) / 100);
		      printf "%.1f %.1f\n", v[m] / 1000, v[p] / 1000 }')
	R[sigmed,$n]=$med
	R[sigp99,$n]=$p99
done

# --- row 7: the shutdown path, SIGTERM -> the child's handler ----------------------------
# stdout of every init is a pipe that a `cat` drains, as under docker (the
# shim reads it): agent-init writes its events there, the peers nothing.
log "shutdown: $STOP_PASSES passes x $STOP_ROUNDS fresh inits per init, interleaved"
cat >"$B/stop.conf" <<EOF
[service side]
command = $B/idle
ready = log:idle
[service main]
command = $B/sigpong $B/fifo term
after = side
main = yes
EOF
rm -f "$B/out"
mkfifo "$B/out"
cat "$B/out" >/dev/null &
STARTED+=("$!")
exec 8>"$B/out" # a writer that stays: the reader never sees EOF between runs
# Two reference inits beside them (bench/refloop.c): the least an init can
# do, waiting in sigwaitinfo() or in epoll_wait() on a signalfd.
STOP_NAMES=("${NAMES[@]}" agent-init-config ref-sigwait ref-epoll)
declare -A STOPCMD
for n in "${NAMES[@]}"; do STOPCMD[$n]="${PID1[$n]} $B/sigpong $B/fifo term"; done
STOPCMD[agent-init]="$AGENT_INIT --no-checks -- $B/sigpong $B/fifo term"
STOPCMD[agent-init-config]="$AGENT_INIT --no-checks -c $B/stop.conf"
STOPCMD[ref-sigwait]="$B/refloop sigwait -- $B/sigpong $B/fifo term"
STOPCMD[ref-epoll]="$B/refloop epoll -- $B/sigpong $B/fifo term"
# Then all of it again on one CPU (taskset: the driver, the init and its
# children): no wake-up lands on an idle CPU, whose waking in a VM costs
# tens of microseconds and falls on one init or another by where its child
# last ran; what is left is each init's own path.
for n in "${STOP_NAMES[@]}"; do : >"$B/stop-$n.raw"; : >"$B/stop1-$n.raw"; done
for cpus in all one; do
	pin=()
	raw=stop
	passes=$STOP_PASSES
	if [ "$cpus" = one ]; then
		pin=(taskset -c 0)
		raw=stop1
		passes=$STOP1_PASSES
	fi
	for pass in $(seq "$passes"); do
		for n in "${STOP_NAMES[@]}"; do
			# shellcheck disable=SC2086
			out=$(timeout 300 "${pin[@]}" "$B/benchdrv" stop "$B/fifo" "$STOP_ROUNDS" \
				"$STOP_SETTLE_MS" "$B/out" "$B/$raw-$n.raw" -- ${STOPCMD[$n]}) ||
				fail "shutdown bench failed for $n ($cpus CPU)"
			log "  pass $pass $n ($cpus CPU): median/p99 us = $out"
		done
	done
done
exec 8>&-
for n in "${STOP_NAMES[@]}"; do
	for raw in stop stop1; do
		read -r med p99 < <(sort -n "$B/$raw-$n.raw" | awk '{ v[NR] = $1 }
			END { m = int((NR + 1) / 2); p = int((NR * 99 + 99) / 100);
			      printf "%.1f %.1f\n", v[m] / 1000, v[p] / 1000 }')
		R[${raw}med,$n]=$med
		R[${raw}p99,$n]=$p99
	done
done
# The config row sets agent-init with services beside the peers' lone command.
for n in "${NAMES[@]}"; do R[stopcfg,$n]=${R[stopmed,$n]}; done
R[stopcfg,agent-init]=${R[stopmed,agent-init-config]}

# --- row 8: `INIT /bin/true` as PID 1 ------------------------------------------------------
log "start as PID 1: $START1_PASSES passes x $START1_RUNS runs per init, interleaved"
for n in "${NAMES[@]}"; do : >"$B/start1-$n.raw"; done
for pass in $(seq "$START1_PASSES"); do
	for n in "${NAMES[@]}"; do
		for _ in $(seq "$START1_RUNS"); do
			# shellcheck disable=SC2086
			read -r ms st < <(timeout 60 "$B/benchdrv" reap "$LOG" -- \
				${PID1[$n]} /bin/true || echo "- fail")
			[ "$st" = 0 ] || fail "$n: /bin/true as PID 1 ended with $st (see $LOG)"
			echo "$ms" >>"$B/start1-$n.raw"
		done
	done
done
for n in "${NAMES[@]}"; do
	R[start1,$n]=$(sort -g "$B/start1-$n.raw" | awk '{ v[NR] = $1 }
		END { printf "%.3f", v[int((NR + 1) / 2)] }')
done

# --- row 6: reaping orphans -------------------------------------------------------------
log "reap: $ORPHANS orphans, $REAP_PASSES passes per init, interleaved"
declare -A REAPS
for pass in $(seq "$REAP_PASSES"); do
	for n in "${NAMES[@]}"; do
		# shellcheck disable=SC2086
		read -r ms st < <(timeout 180 "$B/benchdrv" reap "$LOG" -- \
			${PID1[$n]} "$B/orphans" "$ORPHANS" || echo "- fail")
		[ "$st" = 0 ] || fail "$n: orphans child exited $st (not all reaped? see $LOG)"
		log "  pass $pass $n: $ms ms, all $ORPHANS reaped"
		REAPS[$n]="${REAPS[$n]-} $ms"
	done
done
for n in "${NAMES[@]}"; do
	R[reap,$n]=$(echo "${REAPS[$n]}" | tr ' ' '\n' | sed '/^$/d' | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
done

# --- the table ----------------------------------------------------------------------------------
PEERS=(tini tini-static dumb-init catatonit)
BEHIND=()
row() { # KEY LABEL
	local key=$1 label=$2 n best line ratio
	best=$(for n in "${PEERS[@]}"; do echo "${R[$key,$n]}"; done | sort -g | head -1)
	line="| $label |"
	for n in "${NAMES[@]}"; do line+=" ${R[$key,$n]} |"; done
	ratio=$(awk -v a="${R[$key,agent-init]}" -v b="$best" 'BEGIN {
		if (b == 0) print (a == 0 ? "1.00× (both 0)" : "∞ (peer 0)");
		else if (b < 0) print "n/a (peer < 0: noise)";
		else printf "%.2f×\n", a / b }')
	echo "$line $best | $ratio |"
	if awk -v a="${R[$key,agent-init]}" -v b="$best" 'BEGIN { exit !(a > b * 1.10) }'; then
		BEHIND+=("$label: $ratio")
	fi
}
# A row of agent-init alone (the peers have no such feature).
row_own() { # KEY LABEL
	echo "| $2 | ${R[$1,agent-init]} | – | – | – | – | – | – |"
}
table() {
	echo "| metric | agent-init | tini | tini-static | dumb-init | catatonit | best peer | agent-init / best |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	row size "binary size (bytes)"
	row rss "idle RSS as PID 1 (kB)"
	row wake "PID 1 wake-ups in ${IDLE_S} s idle"
	R[wakecfg,agent-init]=${R[wake,agent-init-config]}
	R[wakelive,agent-init]=${R[wake,agent-init-liveness]}
	row_own wakecfg "… with a config service (ready = notify), no liveness"
	row_own wakelive "… with health (file:, every 1 s) and watchdog (5 s; WATCHDOG=1 every 2 s)"
	row start "\`INIT /bin/true\` mean (ms)"
	row over "… overhead over bare /bin/true (ms)"
	row sigmed "signal forward latency, median (µs)"
	row sigp99 "signal forward latency, p99 (µs)"
	row stopmed "SIGTERM → the child's handler, median (µs)"
	row stopp99 "SIGTERM → the child's handler, p99 (µs)"
	row stopcfg "… agent-init with a config (peers: lone command), median (µs)"
	row start1 "\`INIT /bin/true\` as PID 1, median (ms)"
	row reap "reap $ORPHANS orphans as PID 1 (ms)"
}
table >"$B/table.md" # not $(table): row() fills BEHIND in this shell
TABLE=$(cat "$B/table.md")

# The shutdown path on all CPUs and on one, with the two reference loops.
best_of() { # KEY: the best peer's value
	for n in "${PEERS[@]}"; do echo "${R[$1,$n]}"; done | sort -g | head -1
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }
STOPTABLE=$(
	echo "| init | all CPUs: median (µs) | p99 | one CPU: median (µs) | p99 |"
	echo "|---|---:|---:|---:|---:|"
	for n in agent-init agent-init-config "${PEERS[@]}" ref-sigwait ref-epoll; do
		case $n in
		agent-init-config) label="agent-init with a config" ;;
		ref-sigwait) label="reference: \`refloop sigwait\`" ;;
		ref-epoll) label="reference: \`refloop epoll\`" ;;
		*) label=$n ;;
		esac
		echo "| $label | ${R[stopmed,$n]} | ${R[stopp99,$n]} | ${R[stop1med,$n]} | ${R[stop1p99,$n]} |"
	done
)
STOP1_BEST=$(best_of stop1med)
STOP1_AI=$(ratio "${R[stop1med,agent-init]}" "$STOP1_BEST")
STOP1_REF=$(ratio "${R[stop1med,ref-epoll]}" "$STOP1_BEST")
STOP1_REFW=$(ratio "${R[stop1med,ref-sigwait]}" "$STOP1_BEST")
STOP1_FLOOR=$(awk -v a="${R[stop1med,ref-epoll]}" -v b="${R[stop1med,ref-sigwait]}" \
	'BEGIN { printf "%.1f", a - b }')
STOP1_OWN=$(awk -v a="${R[stop1med,agent-init]}" -v b="${R[stop1med,ref-epoll]}" \
	'BEGIN { printf "%.1f", a - b }')

CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
HEADER="Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')
Kernel: $(uname -sr)
CPU: ${CPU:-unknown} ($(nproc) CPUs); load average at start ${LOAD_START}, at end $(cut -d' ' -f1-3 /proc/loadavg)
Command: \`make bench\` (\`AGENT_INIT=build/agent-init bench/run.sh\`)
Inits: $("$AGENT_INIT" --version 2>/dev/null | head -1 | tr -d '\n'); \
$(dpkg-query -W -f='${Package} ${Version}; ' tini dumb-init catatonit 2>/dev/null |
	sed 's/; $//' || echo 'Debian packages')"

echo
echo "$TABLE"
echo
echo "bare /bin/true: $BARE_MS ms; in an empty netns: unshare --net /bin/true ${R[start,unshare-net]} ms," \
	"agent-init with its default checks ${R[start,agent-init-checks]} ms"
echo "idle wake-ups in ${IDLE_S} s: agent-init without checks ${R[wake,agent-init]}," \
	"with a [check] every 5 s ${R[wake,agent-init-interval]}," \
	"with a service held by a check that passed ${R[wake,agent-init-gate]}"
if [ "${#BEHIND[@]}" -gt 0 ]; then
	echo "agent-init more than 10% behind the best peer:"
	for b in "${BEHIND[@]}"; do echo "  - $b"; done
fi

{
	echo "# agent-init benchmarks"
	echo
	while IFS= read -r h; do echo "$h  "; done <<<"$HEADER"
	echo
	echo "$TABLE"
	echo
	echo "Lower is better in every row.  *best peer* is the best of tini,"
	echo "tini-static, dumb-init and catatonit; the last column is agent-init"
	echo "divided by it."
	echo
	if [ "${#BEHIND[@]}" -gt 0 ]; then
		echo "Rows where agent-init is more than 10% behind the best peer:"
		for b in "${BEHIND[@]}"; do echo "- $b"; done
		echo
	fi
	cat <<EOF
Supplementary: bare \`/bin/true\` ${BARE_MS} ms;
\`unshare --net agent-init --events file:/dev/null -- /bin/true\` (the
default checks: resolver, proxy, capabilities, environment; in an empty
network namespace so that no query leaves it): ${R[start,agent-init-checks]} ms,
against ${R[start,unshare-net]} ms for \`unshare --net /bin/true\`.

Idle wake-ups with the checks after startup (issue 16), in the same
${IDLE_S} s window as row 3, each in an empty network namespace:

| agent-init as PID 1 with \`sleep 30\` | wake-ups in ${IDLE_S} s |
|---|---:|
| no checks (row 3) | ${R[wake,agent-init]} |
| \`[check tcp:gw]\` with \`interval = 5s\` (its connect fails at once) | ${R[wake,agent-init-interval]} |
| a service \`after = check:capabilities\` (passed at startup) | ${R[wake,agent-init-gate]} |

What is configured costs what it schedules: a re-run every 5 s is its
timer and the check's own socket (here one wake-up per run: the connect
fails at once; a check that waits for an answer adds one when it comes);
a gate whose check passed schedules nothing.

The shutdown path (row 7) on all CPUs and pinned to one (\`taskset -c 0\`
on the driver, hence on the init and its child), with two reference
inits beside the peers (bench/refloop.c: block every signal, fork the
command, forward every signal, nothing else), which differ only in how
they wait: in \`sigwaitinfo()\`, which hands over the signal as it wakes
them (as tini and dumb-init wait; catatonit blocks in \`read()\` on a
signalfd, the same single system call), or in \`epoll_wait()\` on a
signalfd, then \`read()\` (what an init must do that also watches pipes,
sockets and timers in one loop, as agent-init does):

$STOPTABLE

On one CPU agent-init is ${STOP1_AI} the best peer; \`refloop sigwait\` is
${STOP1_REFW} and \`refloop epoll\` ${STOP1_REF}.  The gap between the two
references (${STOP1_FLOOR} µs) is the floor of waiting in an event loop
rather than for signals alone: epoll's own wake-up path and one more
system call, each with cold caches after the idle wait; agent-init's own
path beyond \`refloop epoll\` is ${STOP1_OWN} µs (a few hundred samples
per init: differences of a few µs are at the edge of this machine's
noise).  On all CPUs the child's wake-up often
lands on the other, idle, CPU, whose waking in this VM costs more than
the whole path and falls on one init or another by where the child last
ran: compare the inits in the one-CPU column.

How each row is measured (bench/run.sh; helpers bench/*.c):

1. **Size**: \`stat -c %s\` of the file.  agent-init, tini-static and
   catatonit are static (agent-init links musl plus libseccomp, libcap-ng
   and inih); tini and dumb-init are dynamic, so their size excludes glibc.
2. **Idle RSS**: each init runs as PID 1 under
   \`unshare --pid --fork --mount-proc --kill-child INIT -- /bin/sleep 30\`;
   its host pid is unshare's child whose \`NSpid\` ends in 1.  VmRSS from
   \`/proc/PID/status\` after 1 s of settling.
3. **Wake-ups**: voluntary + nonvoluntary context switches of that PID 1
   over the same ${IDLE_S} s window for all five (they run concurrently).
   agent-init writes its events to \`/dev/null\`.  Two more agent-inits
   run in the same window with one config service, \`notifier\` (READY=1,
   then idle): without liveness (nothing scheduled: no wake-up), and with
   \`health = file:/\` every 1 s and \`watchdog = 5s\` while it sends
   WATCHDOG=1 every 2 s (one wake-up per health round, one per datagram,
   and the watchdog's timer once per period however often WATCHDOG=1
   comes: about ${IDLE_S} + ${IDLE_S}/2 + ${IDLE_S}/5).
4. **Startup**: \`hyperfine -N --warmup 20\`, ${HF_RUNS} runs per command
   split into ${HF_ROUNDS} rounds (order reversed every other round); the
   figure is the median of the per-round means.  The init is a plain child
   of hyperfine (not PID 1): \`agent-init --events file:/dev/null
   -- /bin/true\`, \`tini -s -- /bin/true\` (-s: subreaper, no warning),
   \`dumb-init /bin/true\`, \`catatonit -- /bin/true\`; overhead = mean minus
   the mean of bare \`/bin/true\`.
5. **Signal forwarding**: \`build/bench/benchdrv\` clones the init into new
   PID + mount namespaces (PID 1, private /proc), the init runs
   \`sigpong FIFO\`, which blocks SIGUSR1 and answers each one (taken with
   \`sigwaitinfo\`) with a record on the FIFO that holds the
   \`CLOCK_MONOTONIC\` time it took the signal.  One sample = that time
   minus the time before \`kill(init, SIGUSR1)\`: what follows the child's
   handler (the driver's own wake-up) is not counted.  ${SIG_PASSES} passes × (${SIG_WARMUP} warm-up + ${SIG_ROUNDS} recorded) per init, passes
   interleaved across the inits to spread machine noise; median and p99 over
   the pooled $((SIG_PASSES * SIG_ROUNDS)) samples.
6. **The shutdown path**: \`benchdrv stop\` clones a fresh init as PID 1
   running \`sigpong FIFO term\`, waits for its ready byte and
   ${STOP_SETTLE_MS} ms more (the init idle in its loop), then times
   \`kill(init, SIGTERM)\` → the time in the record sigpong writes when it
   takes SIGTERM (the child's own handler of its stop signal; the child's
   exit and the driver's wake-up after it are not counted), then waits for
   the init's exit.  Every init's stdout is a pipe a \`cat\` drains, as under docker;
   agent-init writes its events there (\`--no-checks\`, default
   \`--events stdout\`).  *With a config*: \`agent-init -c\` with two
   services, \`side\` (\`idle\`, ready when it said so) and \`main\`
   (sigpong) after it, so \`main\` gets its stop signal first; the peers' columns hold their lone
   command figures.  ${STOP_PASSES} passes × ${STOP_ROUNDS} inits per init,
   interleaved; median and p99 over the pooled samples.  Then the same
   again pinned to one CPU, ${STOP1_PASSES} passes, with the reference
   loops (the table above).
7. **Start-up as PID 1**: \`benchdrv reap\` times clone → exit of
   \`INIT -- /bin/true\` as PID 1 (agent-init: \`--no-checks --events
   file:/dev/null\`; as PID 1 it also makes its control socket).
   ${START1_PASSES} passes × ${START1_RUNS} runs per init, interleaved; the median.
8. **Reaping**: \`benchdrv reap\` times clone → exit of
   \`INIT -- orphans ${ORPHANS}\` as PID 1.  \`orphans\` makes ${ORPHANS}
   orphans by double fork (batches of 100), then polls the namespace's
   /proc (1 ms period) until only PID 1 and itself remain, and only then
   exits 0, so the time includes reaping every orphan and the run fails if
   any is left.  Median of ${REAP_PASSES} interleaved passes.  Most of the
   time is the child's own forking, identical for all inits.

The machine is a shared, noisy $(nproc)-CPU VM: expect a few percent of run-to-run
variation in the timed rows.  Raw data: build/bench/ (hyperfine-*.csv,
sig-*.raw, stop-*.raw, start1-*.raw).
EOF
} >"$RESULTS"
log "wrote $RESULTS"

# The supervisor benchmarks (log relay, restart, readiness) append their own
# section to $RESULTS, now that the file above is written.
AGENT_INIT=$AGENT_INIT "$ROOT/bench/supervisor.sh"
AGENT_INIT=$AGENT_INIT "$ROOT/bench/netcheck.sh"
# What the watch (issue 16) costs: rows 3 and 6 again, per mode; with
# OLD_AGENT_INIT (a build from before it) also the reaping row of that build.
AGENT_INIT=$AGENT_INIT "$ROOT/bench/watch.sh"
# The release binaries' sizes and what each part costs (issue 18).
/usr/bin/python3 "$ROOT/scripts/size-report.py" --write "$RESULTS" >/dev/null
