#!/bin/bash
# demo.sh AGENT_INIT: agent-init as PID 1 of a fresh PID, mount and network
# namespace (no packet can leave it), running a small "agent" that leaves
# orphans behind and handles a signal.  Shows the event stream live.
set -eu
AI=$1
tmp=$(mktemp -d /tmp/agent-init-demo.XXXXXX)
U=
cleanup() {
	[ -z "$U" ] || kill -KILL "$U" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

cat > "$tmp/daemon.sh" <<'DAEMON'
#!/bin/sh
echo "warming up (the agent waits for the line below)"
sleep 0.5
echo "listening"
trap 'echo "daemon stopping"; exit 0' TERM
while :; do sleep 0.1; done
DAEMON
cat > "$tmp/agent.sh" <<'AGENT'
#!/bin/sh
echo "started as pid $$; leaving three orphans behind"
for i in 1 2 3; do sh -c 'sleep 0.3 &'; done
echo "a line on stderr" >&2
trap 'echo "got SIGUSR1 (forwarded by PID 1)"' USR1
trap 'echo "got SIGTERM, cleaning up"; exit 0' TERM
while :; do sleep 0.1; done
AGENT
chmod +x "$tmp/agent.sh" "$tmp/daemon.sh"
# The embedded default: a "daemon" with a readiness probe, and the agent
# after it.  Shutdown goes the other way: the agent first, then the daemon.
cat > "$tmp/demo.conf" <<CONF
[init]
stop_timeout = 4s
control_socket = $tmp/control.sock

[service daemon]
command = $tmp/daemon.sh
ready = log:listening

[service agent]
command = $tmp/agent.sh
after = daemon
main = yes
CONF

wait_for() { # wait_for PATTERN SECONDS
	local i=0
	until grep -q "$1" "$tmp/out" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt $(($2 * 20)) ] || { echo "demo: timed out waiting for $1" >&2; exit 1; }
		sleep 0.05
	done
}

echo "demo: agent-init -v -c demo.conf, as PID 1 of new pid/mount/net namespaces"
sed 's/^/demo.conf| /' "$tmp/demo.conf"
echo
unshare --pid --fork --mount-proc --net "$AI" -v -c "$tmp/demo.conf" \
	> >(tee "$tmp/out") 2>&1 &
U=$!
wait_for '"agent_init":"ready"' 10
# PID 1 of the new namespace: the descendant of $U whose NSpid ends in 1
# (unshare does not forward signals, so we signal PID 1 itself).
pid1_of() {
	local p c
	for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		if awk '/^NSpid:/ { exit !($NF == 1) }' "/proc/$p/status" 2>/dev/null; then
			echo "$p"; return 0
		fi
		c=$(pid1_of "$p") && { echo "$c"; return 0; }
	done
	return 1
}
P1=$(pid1_of "$U")
wait_for '"agent_init":"reaped"' 5
echo; echo "demo: agent-init status (over the control socket)"
"$AI" status --socket "$tmp/control.sock" || true
sleep 0.3
echo; echo "demo: kill -USR1 <PID 1>"; kill -USR1 "$P1"
wait_for 'got SIGUSR1' 5
echo; echo "demo: kill -TERM <PID 1>"; kill -TERM "$P1"
set +e
wait "$U"; st=$?
U=
sleep 0.1
echo
echo "demo: agent-init exited with status $st (the agent's own exit code)"
