#!/usr/bin/env bash
# A real single-node SLURM on this machine, for CI and for trying the cluster path (needs root; no systemd).
#
#   bash scripts/slurm_single_node.sh install   # apt-get install slurm-wlm munge, where missing
#   bash scripts/slurm_single_node.sh start     # munged, slurmctld, slurmd; returns once the node is idle
#   bash scripts/slurm_single_node.sh status    # exit 0 if this script's cluster is up (node idle or busy)
#   bash scripts/slurm_single_node.sh stop      # stops, by PID, only what `start` started (PIDs are checked
#                                               # to still be those daemons: name and, for SLURM's, our slurm.conf)
#   bash scripts/slurm_single_node.sh env       # prints `export SLURM_CONF=...` for a shell
#
# Everything lives in $ALLIANCE_SLURM_DIR (default /tmp/alliance-sim-slurm): slurm.conf, state, spool, logs and
# the PIDs. Nothing is written to /etc/slurm, so clients find this cluster through SLURM_CONF=<dir>/slurm.conf.
# The one partition, `debug`, has MaxTime=30 (minutes); finished jobs stay listed by squeue for an hour
# (MinJobAge=3600; there is no accounting). EnforcePartLimits=ALL makes sbatch refuse a job that asks
# for more than the node has instead of leaving it pending forever. Batch jobs are scheduled at once
# (batch_sched_delay=0: a job starts about 0.5 s after sbatch instead of 2.5 s).
set -euo pipefail

DIR=${ALLIANCE_SLURM_DIR:-/tmp/alliance-sim-slurm}
CONF=$DIR/slurm.conf
WAIT_S=${ALLIANCE_SLURM_WAIT_S:-60}

die() { echo "slurm_single_node: $*" >&2; exit 1; }
say() { echo "slurm_single_node: $*"; }

# Whether PID is still the daemon NAME this script started: a PID file can outlive its process, and the PID
# may since belong to anything else. slurmctld and slurmd were started with our slurm.conf on their command line.
ours() {
    local name=$1 pid=$2
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]] || return 1
    [[ $name == munged ]] && return 0
    local args
    args=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $'\n'$args$'\n' == *$'\n'"$CONF"$'\n'* ]]
}

# alive DIR/NAME.pid: the PID file exists and names a running NAME of ours.
alive() { [[ -f $1 ]] && ours "$(basename "$1" .pid)" "$(cat "$1")"; }

# running PID: the process exists and has not exited (a child that exited stays a zombie until reaped).
# While a daemon starts, its PID may still be bash or setpriv before they exec it, so `alive` would call a
# daemon on its way up dead (CI saw this: "munged exited" with munged's start-up lines in its log).
running() {
    local state
    state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
    [[ -n $state && $state != Z && $state != X ]]
}

node_state() { SLURM_CONF=$CONF timeout 5 sinfo -h -N -o '%T' 2>/dev/null | head -n 1; }

# Up: both daemons alive and the node able to run jobs (idle, or busy with jobs).
up() {
    alive "$DIR/slurmctld.pid" && alive "$DIR/slurmd.pid" \
        && [[ $(node_state) =~ ^(idle|mixed|allocated|completing)$ ]]
}

install_packages() {
    local missing=()
    for cmd in slurmctld slurmd sinfo sbatch munged; do
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
    done
    if ((${#missing[@]} == 0)); then
        say "slurm-wlm and munge already installed ($(slurmctld -V))"
        return 0
    fi
    [[ $(id -u) == 0 ]] || die "install: missing ${missing[*]}; run as root, or: apt-get install -y slurm-wlm munge"
    command -v apt-get >/dev/null 2>&1 || die "install: missing ${missing[*]} and no apt-get to install them"
    local started=$SECONDS
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge) >/dev/null
    say "installed $(slurmctld -V) and munge in $((SECONDS - started)) s"
}

start_munge() {
    # Reuse a munged that already answers (e.g. a machine's own); otherwise start one as user munge.
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        return 0
    fi
    local key=/etc/munge/munge.key
    if [[ ! -s $key ]]; then
        install -d -o munge -g munge -m 0700 /etc/munge
        dd if=/dev/urandom of=$key bs=1 count=1024 status=none
    fi
    chown munge:munge $key && chmod 0400 $key
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
    setpriv --reuid=munge --regid=munge --init-groups munged -F </dev/null >"$DIR/log/munged.log" 2>&1 &
    echo $! >"$DIR/munged.pid"
    local deadline=$((SECONDS + 10))
    until munge -n 2>/dev/null | unmunge >/dev/null 2>&1; do
        running "$(cat "$DIR/munged.pid")" || die "munged exited: $(tail -n 3 "$DIR/log/munged.log" | tr '\n' ' ')"
        ((SECONDS < deadline)) || die "munged did not answer within 10 s (log: $DIR/log/munged.log)"
        sleep 0.2
    done
}

write_conf() {
    local host cpus mem_mb
    host=$(hostname -s)
    cpus=$(nproc)
    mem_mb=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)  # leave 10 % for the system
    cat >"$CONF" <<EOF
# Written by scripts/slurm_single_node.sh: one node ($host, $cpus CPUs, $mem_mb MB), one partition.
ClusterName=alliance
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MpiDefault=none
ReturnToService=2
MinJobAge=3600
EnforcePartLimits=ALL
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.daemon.pid
SlurmdPidFile=$DIR/slurmd.daemon.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=30 State=UP
EOF
}

start() {
    if up; then
        say "already running (SLURM_CONF=$CONF)"
        return 0
    fi
    [[ $(id -u) == 0 ]] || die "start: needs root (it runs munged, slurmctld and slurmd)"
    for cmd in slurmctld slurmd sinfo munged setpriv; do
        command -v "$cmd" >/dev/null 2>&1 || die "start: $cmd not found; run: bash $0 install"
    done
    stop quiet
    local started=$SECONDS
    rm -rf "$DIR/state" "$DIR/spool"
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
    write_conf
    start_munge
    slurmctld -D -i -f "$CONF" </dev/null >>"$DIR/log/slurmctld.out" 2>&1 &
    echo $! >"$DIR/slurmctld.pid"
    slurmd -D -f "$CONF" </dev/null >>"$DIR/log/slurmd.out" 2>&1 &
    echo $! >"$DIR/slurmd.pid"
    # Wait on state, not time: the node must report idle before anyone submits.
    local deadline=$((SECONDS + WAIT_S)) state=""
    while true; do
        state=$(node_state || true)
        [[ $state == idle ]] && break
        for daemon in slurmctld slurmd; do
            running "$(cat "$DIR/$daemon.pid")" || die "$daemon exited: $(tail -n 3 "$DIR/log/$daemon.log" 2>/dev/null \
                | tr '\n' ' ') (logs: $DIR/log)"
        done
        ((SECONDS < deadline)) || die "node not idle after $WAIT_S s (state: '${state:-no answer}'; logs: $DIR/log)"
        sleep 0.2
    done
    say "node $(hostname -s) idle after $((SECONDS - started)) s; use: export SLURM_CONF=$CONF"
}

stop() {
    local quiet=${1:-}
    if [[ -f $CONF ]] && alive "$DIR/slurmctld.pid"; then
        SLURM_CONF=$CONF timeout 5 scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
    fi
    local stopped=()
    for daemon in slurmd slurmctld munged; do
        local pidfile=$DIR/$daemon.pid
        [[ -f $pidfile ]] || continue
        local pid
        pid=$(cat "$pidfile")
        if ours "$daemon" "$pid"; then  # never a process that merely reuses a stale PID
            kill "$pid" 2>/dev/null || true
            local deadline=$((SECONDS + 10))
            while ours "$daemon" "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
            ours "$daemon" "$pid" && kill -9 "$pid" 2>/dev/null || true
            stopped+=("$daemon($pid)")
        elif kill -0 "$pid" 2>/dev/null; then
            say "$pidfile: PID $pid is no longer $daemon ($(cat "/proc/$pid/comm" 2>/dev/null)); left alone"
        fi
        rm -f "$pidfile"
    done
    [[ -n $quiet ]] || say "stopped ${stopped[*]:-nothing (not running)}"
}

status() {
    if up; then
        SLURM_CONF=$CONF sinfo
        return 0
    fi
    say "not running (no usable node behind $CONF)"
    return 1
}

case ${1:-} in
    install) install_packages ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    env) echo "export SLURM_CONF=$CONF" ;;
    *) die "usage: bash $0 install|start|status|stop|env" ;;
esac
