#!/bin/bash
# bench/watch.sh — what the watch after ready (issue 16: OOM attribution,
# pids_watch) costs agent-init as PID 1, in rows 3 and 6 of bench/run.sh:
#
#   idle wake-ups   voluntary+nonvoluntary context switches of PID 1 over
#                   IDLE_S s with one `sleep` child, all variants at once:
#                   the OOM watch by eventfd (this machine's writable v1
#                   memory cgroup: the default), the OOM watch on a
#                   read-only cgroup (reads piggy-backed on reaping and
#                   output), no memory cgroup at all, and pids_watch on
#   reaping         `benchdrv reap` of ORPHANS orphans as PID 1 (one
#                   counter read per reaping pass), median of REAP_PASSES
#                   interleaved passes, against OLD_AGENT_INIT (a build
#                   from before the watch) when given
#
#   AGENT_INIT=/abs/agent-init [OLD_AGENT_INIT=/abs/old] bench/watch.sh
#
# Writes the section "## Watch benchmarks" of bench/RESULTS.md (make bench
# runs it from bench/run.sh).  Every
# process started here is recorded by pid and killed on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
B=$ROOT/build/bench
LOG=$B/watch.log
RESULTS=$ROOT/bench/RESULTS.md
IDLE_S=${IDLE_S:-10}
ORPHANS=${ORPHANS:-20000}
REAP_PASSES=${REAP_PASSES:-5}

BENCH_NAME=watch
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

[ "$(id -u)" = 0 ] || fail "must run as root (PID and mount namespaces)"
[ -x "${AGENT_INIT:-}" ] || fail "set AGENT_INIT to the agent-init binary"
[ -z "${OLD_AGENT_INIT:-}" ] || [ -x "$OLD_AGENT_INIT" ] ||
	fail "OLD_AGENT_INIT=$OLD_AGENT_INIT is not an executable file"
[ -d "$ROOT/build/deps/kernel-headers" ] || fail "build/deps/kernel-headers missing (make deps)"
MEMCG=/sys/fs/cgroup/memory
# Our own memory cgroup's directory: the read-only variant shows it,
# read-only, at $MEMCG, as a container sees its own.
own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/self/cgroup)
if [ -z "$own" ] || [ ! -f "$MEMCG$own/memory.oom_control" ]; then
	fail "no cgroup v1 memory hierarchy at $MEMCG (this bench needs one)"
fi
OWN_CG=$MEMCG$own

trap stop_started EXIT
trap 'exit 130' INT TERM HUP

mkdir -p "$B"
: >"$LOG"
for p in orphans benchdrv; do
	musl-gcc -static -O2 -Wall -Wextra -Werror \
		-isystem "$ROOT/build/deps/kernel-headers" \
		-o "$B/$p" "$ROOT/bench/$p.c" || fail "cannot build bench/$p.c"
done

AI="--no-checks --events file:/dev/null --"
RO_WRAP=(sh -c "mount --bind \"\$0\" $MEMCG && mount -o remount,bind,ro $MEMCG && exec \"\$@\"" "$OWN_CG")
NOCG_WRAP=(sh -c 'umount -R /sys/fs/cgroup && exec "$@"' sh)

# --- idle wake-ups ----------------------------------------------------------------
VARIANTS=(default readonly nocgroup pids5s pids1s)
declare -A LABEL R UPID IPID CS0
LABEL[default]="OOM watch by eventfd (writable v1 cgroup), pids_watch off: the default"
LABEL[readonly]="OOM watch on a read-only cgroup (reads on reaping/output)"
LABEL[nocgroup]="no memory cgroup (OOM watch off, one warning)"
LABEL[pids5s]="default + \`pids_watch = 5s\`"
LABEL[pids1s]="default + \`pids_watch = 1s\`"
start_idle() { # VARIANT
	# No control socket: the variants would probe each other's (and
	# anyone's connect would be a wake-up that is not the watch's).
	local env=(AGENT_INIT_CONTROL_SOCKET=) wrap=()
	: >"$B/idle-$1.events"
	case $1 in
	readonly) wrap=("${RO_WRAP[@]}") ;;
	nocgroup) wrap=("${NOCG_WRAP[@]}") ;;
	pids5s) env+=(AGENT_INIT_PIDS_WATCH=5s) ;;
	pids1s) env+=(AGENT_INIT_PIDS_WATCH=1s) ;;
	esac
	# shellcheck disable=SC2086
	env "${env[@]}" unshare --pid --fork --mount-proc --kill-child \
		"${wrap[@]+"${wrap[@]}"}" "$AGENT_INIT" --no-checks \
		--events "file:$B/idle-$1.events" -- /bin/sleep $((IDLE_S + 20)) \
		>>"$LOG" 2>&1 </dev/null &
	UPID[$1]=$!
	STARTED+=("$!")
}
status_field() { # PID FIELD
	awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status"
}
switches() {
	echo $(($(status_field "$1" voluntary_ctxt_switches) + $(status_field "$1" nonvoluntary_ctxt_switches)))
}
log "idle: ${#VARIANTS[@]} agent-init variants as PID 1, ${IDLE_S} s window"
for v in "${VARIANTS[@]}"; do start_idle "$v"; done
for v in "${VARIANTS[@]}"; do
	u=${UPID[$v]} ip=
	for _ in $(seq 1000); do
		# shellcheck disable=SC2013 # one line of pids
		for c in $(cat "/proc/$u/task/$u/children" 2>/dev/null); do
			nspid=$(awk '$1 == "NSpid:" { print $NF }' "/proc/$c/status" 2>/dev/null || true)
			comm=$(cat "/proc/$c/comm" 2>/dev/null || true)
			if [ "$nspid" = 1 ] && [ "$comm" = agent-init ] &&
				[ -n "$(cat "/proc/$c/task/$c/children" 2>/dev/null)" ]; then
				ip=$c
			fi
		done
		[ -n "$ip" ] && break
		sleep 0.01
	done
	[ -n "$ip" ] || fail "$v: no agent-init PID 1 with a child under unshare $u (see $LOG)"
	IPID[$v]=$ip
done
sleep 1
# Each variant is in the mode it says: an eventfd open where the cgroup is
# writable, none on the read-only one, the warning without a cgroup.
has_eventfd() { # PID
	local f
	for f in "/proc/$1/fd"/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "anon_inode:[eventfd]" ] && return 0
	done
	return 1
}
for v in default pids5s pids1s; do
	has_eventfd "${IPID[$v]}" || fail "$v: no eventfd registered in cgroup.event_control"
done
! has_eventfd "${IPID[readonly]}" || fail "readonly: an eventfd on a read-only cgroup?"
grep -q '"what":"oom_watch"' "$B/idle-nocgroup.events" ||
	fail "nocgroup: no oom_watch warning (see $B/idle-nocgroup.events)"
for v in default readonly pids5s pids1s; do
	! grep -q '"what":"oom_watch"' "$B/idle-$v.events" ||
		fail "$v: an oom_watch warning (see $B/idle-$v.events)"
done
for v in "${VARIANTS[@]}"; do CS0[$v]=$(switches "${IPID[$v]}"); done
sleep "$IDLE_S"
for v in "${VARIANTS[@]}"; do
	kill -0 "${IPID[$v]}" 2>/dev/null || fail "$v exited during the idle window (see $LOG)"
	R[wake,$v]=$(($(switches "${IPID[$v]}") - CS0[$v]))
done
for v in "${VARIANTS[@]}"; do kill -TERM "${IPID[$v]}" 2>/dev/null || true; done
for v in "${VARIANTS[@]}"; do wait "${UPID[$v]}" 2>/dev/null || true; done
STARTED=()

# --- reaping ----------------------------------------------------------------------
REAPERS=(new)
[ -n "${OLD_AGENT_INIT:-}" ] && REAPERS=(old new)
declare -A BINOF REAPS
BINOF[new]=$AGENT_INIT
BINOF[old]=${OLD_AGENT_INIT:-}
log "reap: $ORPHANS orphans, $REAP_PASSES passes each, interleaved"
for pass in $(seq "$REAP_PASSES"); do
	for n in "${REAPERS[@]}"; do
		# shellcheck disable=SC2086
		read -r ms st < <(timeout 180 "$B/benchdrv" reap "$LOG" -- \
			"${BINOF[$n]}" $AI "$B/orphans" "$ORPHANS" || echo "- fail")
		[ "$st" = 0 ] || fail "$n: orphans child exited $st (see $LOG)"
		log "  pass $pass $n: $ms ms"
		REAPS[$n]="${REAPS[$n]-} $ms"
	done
done
median() {
	tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
for n in "${REAPERS[@]}"; do R[reap,$n]=$(echo "${REAPS[$n]}" | median); done

# --- the section ----------------------------------------------------------------------
{
	echo "| PID 1 idle, one \`sleep\` child | wake-ups in ${IDLE_S} s |"
	echo "|---|---:|"
	for v in "${VARIANTS[@]}"; do echo "| ${LABEL[$v]} | ${R[wake,$v]} |"; done
	echo
	echo "| reap $ORPHANS orphans as PID 1 | median (ms) | passes (ms) |"
	echo "|---|---:|---|"
	if [ -n "${OLD_AGENT_INIT:-}" ]; then
		echo "| before the watch ($("$OLD_AGENT_INIT" --version | head -1 | cut -d' ' -f1-2), no counter read) | ${R[reap,old]} | ${REAPS[old]# } |"
	fi
	echo "| with the watch (one counter read per reaping pass) | ${R[reap,new]} | ${REAPS[new]# } |"
} >"$B/watch-table.md"
cat "$B/watch-table.md"

SECTION="## Watch benchmarks

$(results_header "\`AGENT_INIT=build/agent-init OLD_AGENT_INIT=<build of the commit before the watch> bench/watch.sh\`" util-linux)

$(cat "$B/watch-table.md")

How (bench/watch.sh): the idle variants run as PID 1 under \`unshare --pid
--fork --mount-proc\` at the same time, with \`--no-checks --events
file:F -- /bin/sleep\` and no control socket (events are written only at start; the script checks
that each variant is in the mode it names: an eventfd open or not, the
warning without a cgroup); the read-only one bind-mounts its own memory
cgroup read-only over $MEMCG first (as a container sees
it), the one without a cgroup unmounts /sys/fs/cgroup in its mount
namespace.  A wake-up is a context switch of PID 1 in the window.  With \`pids_watch\` each scan is
one timer expiry; nothing else wakes PID 1.  Reaping: as row 6 of
bench/run.sh, the two builds interleaved pass by pass; the orphans exit 0,
so beyond the one \`pread\` of memory.oom_control at each pass nothing of
the watch runs (a SIGKILLed orphan would add one read).  A shared, noisy
2-CPU machine: the two medians differ by less than the spread of the
passes."
results_put "## Watch benchmarks" "$SECTION" "$RESULTS"
log "wrote the section \"## Watch benchmarks\" of $RESULTS"
