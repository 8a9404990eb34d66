#!/bin/sh
# updatectl agent for KubeSolo OS's init, which has no systemd: called from a late init stage,
# after the data partition is mounted and the network is up, as
#     /usr/local/sbin/updatectl-agent.sh start
# it supervises `updatectl agent` in the background: the agent is started again whenever it
# exits, after a pause that doubles from 5 s up to 5 minutes (back to 5 s after an hour's run).
#     updatectl-agent.sh start | stop | restart | status | run
# `run` supervises in the foreground (for an init that respawns by itself, e.g. busybox init's
# `::respawn:/usr/local/sbin/updatectl-agent.sh run`). `stop` sends SIGTERM: the agent finishes
# the run in progress and exits; every step is crash-safe, so a later SIGKILL loses nothing.
# POSIX sh and busybox applets only. Settings from the environment:
#   UPDATECTL         the binary (default /usr/local/bin/updatectl)
#   UPDATECTL_POLICY  the policy file (default: the search order of docs/policy-discovery.md)
#   UPDATECTL_LOG     the log (default /var/log/updatectl-agent.log)
#   UPDATECTL_RUN_DIR where the pid file goes (default /run/updatectl)
#   UPDATECTL_RESPAWN_PAUSE  the first pause before a restart, in seconds (default 5)

UPDATECTL=${UPDATECTL:-/usr/local/bin/updatectl}
POLICY=${UPDATECTL_POLICY:-}
LOG=${UPDATECTL_LOG:-/var/log/updatectl-agent.log}
RUN_DIR=${UPDATECTL_RUN_DIR:-/run/updatectl}
FIRST_PAUSE=${UPDATECTL_RESPAWN_PAUSE:-5}
PIDFILE=$RUN_DIR/agent.pid

say() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) updatectl-agent.sh: $*" >>"$LOG"; }

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

supervise() {
    child=
    stopping=
    trap 'stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT
    pause=$FIRST_PAUSE
    while [ -z "$stopping" ]; do
        started=$(date +%s)
        if [ -n "$POLICY" ]; then
            "$UPDATECTL" agent "$POLICY" >>"$LOG" 2>&1 </dev/null &
        else
            "$UPDATECTL" agent >>"$LOG" 2>&1 </dev/null &
        fi
        child=$!
        say "started the agent (process $child)"
        # A trapped signal ends `wait` early: wait again until the agent has really exited.
        status=0
        while kill -0 "$child" 2>/dev/null; do
            wait "$child"
            status=$?
        done
        child=
        [ -n "$stopping" ] && break
        [ $(($(date +%s) - started)) -ge 3600 ] && pause=$FIRST_PAUSE
        say "the agent exited with status $status; starting it again in ${pause}s"
        sleep "$pause" &
        child=$!
        wait "$child"
        kill "$child" 2>/dev/null
        child=
        pause=$((pause * 2))
        [ "$pause" -gt 300 ] && pause=300
    done
    say "stopped"
}

case "${1:-}" in
start)
    if running; then
        echo "updatectl agent is running (supervisor $(cat "$PIDFILE"))"
        exit 0
    fi
    mkdir -p "$RUN_DIR" "$(dirname "$LOG")" || exit 1
    sh "$0" run </dev/null >/dev/null 2>&1 &
    echo $! >"$PIDFILE"
    echo "updatectl agent started (supervisor $!, log $LOG)"
    ;;
stop)
    if ! running; then
        echo "updatectl agent is not running"
        rm -f "$PIDFILE"
        exit 0
    fi
    pid=$(cat "$PIDFILE")
    kill -TERM "$pid"
    # The agent finishes the run in progress first: wait for it (at most 15 minutes).
    waited=0
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 900 ]; do
        sleep 1
        waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "updatectl agent did not stop within 15 minutes" >&2
        exit 1
    fi
    rm -f "$PIDFILE"
    echo "updatectl agent stopped"
    ;;
restart)
    sh "$0" stop && sh "$0" start
    ;;
status)
    if running; then
        echo "updatectl agent is running (supervisor $(cat "$PIDFILE"))"
    else
        echo "updatectl agent is not running"
        exit 3
    fi
    ;;
run)
    mkdir -p "$(dirname "$LOG")" || exit 1
    supervise
    ;;
*)
    echo "usage: $0 start|stop|restart|status|run" >&2
    exit 2
    ;;
esac
