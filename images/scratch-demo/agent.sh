#!/bin/sh
# The demo agent of the scratch-demo image: a busybox shell that behaves
# like an agent under agent-init.  It says when it listens (the service's
# readiness probe is `log:agent listening`), answers SIGUSR1 (forwarded by
# agent-init, e.g. `docker kill -s USR1`), and on SIGTERM (`docker stop`)
# saves its state and exits 0.
#
# AGENT_GATE=PATH: wait until PATH exists before listening (to watch the
# sandbox be "starting" for as long as you like).
# AGENT_EXIT=N: exit N right after listening (a job that ends by itself).
trap 'echo "agent: got SIGUSR1"' USR1
trap 'echo "agent: got SIGTERM, saving state"; exit 0' TERM
if [ -n "$AGENT_GATE" ]; then
	echo "agent: waiting for $AGENT_GATE"
	while [ ! -e "$AGENT_GATE" ]; do sleep 0.2; done
fi
echo "agent listening on the gateway http://127.0.0.1:8080/"
[ -z "$AGENT_EXIT" ] || exit "$AGENT_EXIT"
while :; do
	# A child and `wait`, so that a trapped signal is handled at once
	# (a shell runs traps only between commands).
	sleep 3600 &
	pid=$!
	wait $pid
	kill $pid 2>/dev/null
done
