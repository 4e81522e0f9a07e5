#!/usr/bin/env bash
# Installs and runs the two servers the event-driven pipeline and its integration tests need,
# on 127.0.0.1 only: RabbitMQ (AMQP, port 5672; management API 15672) and Azurite's blob service
# (port 10000).
#
#   infra/local.sh up       install what is missing, start what is not listening, print connection strings
#   infra/local.sh down     stop what `up` started (recorded in .infra/started), wait for the ports to close
#   infra/local.sh status   say whether each server is listening
#   infra/local.sh env      print the connection strings as `export` lines: eval "$(infra/local.sh env)"
#   infra/local.sh ctl ...  run rabbitmqctl against the local broker (same node name and environment)
#   infra/local.sh kill rabbitmq|azurite
#                           SIGKILL that server (no shutdown: what it had not yet made durable is lost, as
#                           in a crash), wait for its port to close; `up` starts it again on the same data
#
# State lives in the ignored folder .infra/ at the repository root. See infra/README.md.
set -euo pipefail

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd -P)
STATE="$ROOT/.infra"
STARTED="$STATE/started"

AZURITE_VERSION=3.35.0 # newest release that runs on Node.js 20; 3.36.0+ need Node.js >= 21/22
RABBIT_PORT=5672
BLOB_PORT=10000
WAIT_S=${INFRA_WAIT_S:-90}

AZURITE_PREFIX="$STATE/node"
AZURITE_DATA="$STATE/azurite"
AZURITE_LOG="$STATE/azurite.log"
AZURITE_PID="$STATE/azurite.pid"

AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
CS_RABBITMQ="amqp://guest:guest@127.0.0.1:$RABBIT_PORT/"
CS_BLOBS="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;BlobEndpoint=http://127.0.0.1:$BLOB_PORT/devstoreaccount1;"

log() { printf '[infra] %s\n' "$*" >&2; }
die() {
  printf '[infra] ERROR: %s\n' "$*" >&2
  exit 1
}

# True when something accepts TCP connections on 127.0.0.1:$1.
# shellcheck disable=SC2016 # $1 expands in the inner bash
listening() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; }

# wait_port PORT open|closed SECONDS
wait_port() {
  local port=$1 want=$2 secs=$3 i
  for ((i = 0; i < secs * 2; i++)); do
    if listening "$port"; then [[ $want == open ]] && return 0; else [[ $want == closed ]] && return 0; fi
    sleep 0.5
  done
  return 1
}

# alive PID [COMM]: the process exists, is not a zombie and (when given) has that command name.
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [[ ${stat##*) } != Z* ]] || return 1
  [[ -z ${2:-} || $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]]
}

started_has() { [[ -f $STARTED ]] && grep -qx "$1" "$STARTED"; }
started_add() { started_has "$1" || echo "$1" >>"$STARTED"; }
started_del() {
  [[ -f $STARTED ]] || return 0
  local rest
  rest=$(grep -vx "$1" "$STARTED" || true)
  if [[ -n $rest ]]; then printf '%s\n' "$rest" >"$STARTED"; else rm -f "$STARTED"; fi
}

APT_UPDATED=0
apt_install() {
  [[ $(id -u) == 0 ]] || die "installing $* needs root (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  if ((APT_UPDATED == 0)); then
    log "apt-get update"
    apt-get update -qq || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  apt-get install -y -qq --no-install-recommends "$@" || die "apt-get install $* failed"
}

# ---------------------------------------------------------------- RabbitMQ

# Environment shared by rabbitmq-server and rabbitmqctl. Debian's wrappers (/usr/sbin/rabbitmq-server,
# /usr/sbin/rabbitmqctl) run the real scripts as the `rabbitmq` user via `su` (environment kept, HOME
# set to /var/lib/rabbitmq, where the package put the Erlang cookie), so both sides share one cookie.
rabbit_env() {
  id rabbitmq >/dev/null 2>&1 || die "rabbitmq-server is not installed (run: infra/local.sh up)"
  # Node state must be writable by the rabbitmq user; fall back to its home when it cannot reach .infra/.
  RMQ_STATE="$STATE/rabbitmq"
  mkdir -p "$RMQ_STATE"
  chown rabbitmq:rabbitmq "$RMQ_STATE"
  if ! runuser -u rabbitmq -- test -w "$RMQ_STATE"; then
    RMQ_STATE="/var/lib/rabbitmq/infra-local-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)"
    mkdir -p "$RMQ_STATE"
    chown rabbitmq:rabbitmq "$RMQ_STATE"
  fi
  local conf="$ROOT/infra/rabbitmq/rabbitmq.conf"
  [[ -f $conf ]] || die "missing $conf"
  if ! runuser -u rabbitmq -- test -r "$conf"; then
    install -m 0644 "$conf" "$RMQ_STATE/rabbitmq.conf"
    conf="$RMQ_STATE/rabbitmq.conf"
  fi
  mkdir -p "$RMQ_STATE/mnesia" "$RMQ_STATE/log"
  # Management plugin (HTTP API/UI on 127.0.0.1:15672): costs no measurable start time; opt out with
  # INFRA_RABBITMQ_MANAGEMENT=0. Takes effect at the broker's next start.
  if [[ ${INFRA_RABBITMQ_MANAGEMENT:-1} == 0 ]]; then
    echo '[].' >"$RMQ_STATE/enabled_plugins"
  else
    echo '[rabbitmq_management].' >"$RMQ_STATE/enabled_plugins"
  fi
  chown -R rabbitmq:rabbitmq "$RMQ_STATE"

  export RABBITMQ_CONFIG_FILE="$conf"
  export RABBITMQ_MNESIA_BASE="$RMQ_STATE/mnesia"
  export RABBITMQ_LOG_BASE="$RMQ_STATE/log"
  export RABBITMQ_PID_FILE="$RMQ_STATE/rabbit.pid"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_STATE/enabled_plugins"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$RABBIT_PORT
  # Erlang distribution (node-to-CLI traffic) and epmd on loopback too.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export ERL_EPMD_ADDRESS=127.0.0.1

  # Node name: rabbit@<short hostname> (the default, so a plain `rabbitmqctl` finds it) when that
  # hostname resolves to loopback; otherwise rabbit@localhost, which rabbitmqctl only finds with the
  # same RABBITMQ_NODENAME (use `infra/local.sh ctl ...`).
  local host addr
  host=$(hostname -s 2>/dev/null || hostname)
  addr=$(getent ahosts "$host" 2>/dev/null | awk 'NR==1{print $1}')
  if [[ $addr == 127.* || $addr == ::1 ]]; then
    export RABBITMQ_NODENAME="rabbit@$host"
  else
    export RABBITMQ_NODENAME=rabbit@localhost
  fi
}

rabbit_log_tail() {
  local f
  for f in "$RABBITMQ_LOG_BASE/$RABBITMQ_NODENAME.log" /var/log/rabbitmq/startup_err "$STATE/rabbitmq-start.log"; do
    [[ -s $f ]] && {
      echo "---- tail of $f" >&2
      tail -n 40 "$f" >&2
    }
  done
  return 0
}

rabbit_up() {
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    # Debian's postinst would start the broker via invoke-rc.d (on all interfaces) unless a
    # policy-rc.d forbids it: add one for the duration of the install when there is none.
    local added_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod 0755 /usr/sbin/policy-rc.d
      added_policy=1
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT # also on die
    fi
    apt_install rabbitmq-server
    if ((added_policy)); then
      rm -f /usr/sbin/policy-rc.d
      trap - EXIT
    fi
    command -v rabbitmq-server >/dev/null 2>&1 || die "rabbitmq-server could not be installed"
  fi
  [[ $(id -u) == 0 ]] || die "starting rabbitmq-server needs root (Debian's wrapper runs it as user rabbitmq)"

  rabbit_env
  if listening "$RABBIT_PORT"; then
    log "rabbitmq: already listening on 127.0.0.1:$RABBIT_PORT"
    return 0
  fi

  local epmd_was_up=0
  listening 4369 && epmd_was_up=1
  rm -f "$RABBITMQ_PID_FILE" # a stale one; the new node writes its own early in its boot
  log "rabbitmq: starting node $RABBITMQ_NODENAME (state in $RMQ_STATE)"
  started_add rabbitmq
  ((epmd_was_up)) || started_add epmd
  if ! rabbitmq-server -detached >"$STATE/rabbitmq-start.log" 2>&1 </dev/null; then
    rabbit_log_tail
    rabbit_stop 10 || true
    die "rabbitmq-server -detached failed"
  fi
  if ! wait_port "$RABBIT_PORT" open "$WAIT_S"; then
    rabbit_log_tail
    log "rabbitmq: stopping the node that did not come up"
    rabbit_stop 20 || true
    die "rabbitmq did not listen on 127.0.0.1:$RABBIT_PORT within ${WAIT_S}s"
  fi
  log "rabbitmq: listening on 127.0.0.1:$RABBIT_PORT"
  # The management API (the integration tests create a virtual host per test through it) starts a
  # moment after AMQP.
  if [[ ${INFRA_RABBITMQ_MANAGEMENT:-1} != 0 ]] && ! wait_port 15672 open "$WAIT_S"; then
    rabbit_log_tail
    die "rabbitmq management did not listen on 127.0.0.1:15672 within ${WAIT_S}s"
  fi
}

# The broker's Erlang VM, from its pid file, if that process is still a beam.smp.
rabbit_pid() {
  local pid
  pid=$(cat "$RABBITMQ_PID_FILE" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" beam.smp && echo "$pid"
  return 0
}

# rabbit_stop GRACE_S: stop the node this script started. GRACE_S: how long to wait for the pid
# file of a node that is still booting (0 when none can be).
rabbit_stop() {
  local grace=$1 pid i
  pid=$(rabbit_pid)
  for ((i = 0; i < grace * 2; i++)); do
    [[ -z $pid ]] || break
    sleep 0.5
    pid=$(rabbit_pid)
  done
  if [[ -n $pid ]] || listening "$RABBIT_PORT"; then
    log "rabbitmq: stopping $RABBITMQ_NODENAME${pid:+ (pid $pid)}"
    if ! timeout 60 rabbitmqctl -q stop >/dev/null 2>&1 && [[ -n $pid ]]; then
      log "rabbitmq: rabbitmqctl stop failed; sending TERM to pid $pid"
      kill "$pid" 2>/dev/null || true
    fi
    # Wait for the VM itself to exit so that a following `up` starts cleanly.
    for ((i = 0; i < 120; i++)); do
      if [[ -z $pid ]] || ! alive "$pid" beam.smp; then break; fi
      ((i == 80)) && { log "rabbitmq: pid $pid still running; sending KILL"; kill -9 "$pid" 2>/dev/null || true; }
      sleep 0.5
    done
    wait_port "$RABBIT_PORT" closed "$WAIT_S" || die "rabbitmq still listening on 127.0.0.1:$RABBIT_PORT after ${WAIT_S}s"
  fi
  rm -f "$RABBITMQ_PID_FILE"
  started_del rabbitmq
  if started_has epmd; then
    epmd -kill >/dev/null 2>&1 || true
    started_del epmd
  fi
  log "rabbitmq: stopped"
}

rabbit_down() {
  if ! started_has rabbitmq; then
    listening "$RABBIT_PORT" && log "rabbitmq: running but not started by this script; left alone"
    return 0
  fi
  rabbit_env
  rabbit_stop 0
}

# ---------------------------------------------------------------- Azurite

azurite_installed_version() {
  local pj="$AZURITE_PREFIX/node_modules/azurite/package.json"
  [[ -f $pj ]] && sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$pj" | head -n 1
  return 0
}

azurite_up() {
  if ! command -v npm >/dev/null 2>&1; then
    command -v node >/dev/null 2>&1 || apt_install nodejs
    command -v npm >/dev/null 2>&1 || apt_install npm
  fi
  if [[ $(azurite_installed_version) != "$AZURITE_VERSION" ]]; then
    log "azurite: npm install azurite@$AZURITE_VERSION into $AZURITE_PREFIX"
    mkdir -p "$AZURITE_PREFIX"
    npm install --prefix "$AZURITE_PREFIX" "azurite@$AZURITE_VERSION" --no-audit --no-fund --loglevel=error >&2 ||
      die "npm install azurite@$AZURITE_VERSION failed"
  fi
  local bin="$AZURITE_PREFIX/node_modules/.bin/azurite-blob"
  [[ -x $bin ]] || die "azurite-blob missing at $bin"

  if listening "$BLOB_PORT"; then
    log "azurite: already listening on 127.0.0.1:$BLOB_PORT"
    return 0
  fi
  mkdir -p "$AZURITE_DATA"
  log "azurite: starting blob service (data in $AZURITE_DATA)"
  # setsid: its own session, so the terminal's signals do not reach it; nohup for SIGHUP.
  setsid nohup "$bin" --blobHost 127.0.0.1 --blobPort "$BLOB_PORT" --location "$AZURITE_DATA" \
    --skipApiVersionCheck --disableTelemetry --loose >"$AZURITE_LOG" 2>&1 < /dev/null &
  echo $! >"$AZURITE_PID"
  started_add azurite
  if ! wait_port "$BLOB_PORT" open "$WAIT_S"; then
    echo "---- tail of $AZURITE_LOG" >&2
    tail -n 40 "$AZURITE_LOG" >&2 || true
    die "azurite did not listen on 127.0.0.1:$BLOB_PORT within ${WAIT_S}s"
  fi
  log "azurite: listening on 127.0.0.1:$BLOB_PORT (pid $(cat "$AZURITE_PID"))"
}

azurite_down() {
  if ! started_has azurite; then
    listening "$BLOB_PORT" && log "azurite: running but not started by this script; left alone"
    return 0
  fi
  local pid=""
  [[ -f $AZURITE_PID ]] && pid=$(cat "$AZURITE_PID" 2>/dev/null || true)
  if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && grep -qa azurite "/proc/$pid/cmdline" 2>/dev/null; then
    log "azurite: stopping pid $pid"
    kill "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 40; i++)); do
      alive "$pid" || break
      sleep 0.5
    done
    if alive "$pid"; then
      log "azurite: pid $pid ignored TERM; sending KILL"
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  wait_port "$BLOB_PORT" closed "$WAIT_S" || die "azurite still listening on 127.0.0.1:$BLOB_PORT after ${WAIT_S}s"
  rm -f "$AZURITE_PID"
  started_del azurite
  log "azurite: stopped"
}

# ---------------------------------------------------------------- crashes (fault tests)

# kill_server rabbitmq|azurite: SIGKILL the server this script started and wait for its port to close.
kill_server() {
  local pid port
  case "$1" in
    rabbitmq)
      rabbit_env
      pid=$(rabbit_pid)
      port=$RABBIT_PORT
      ;;
    azurite)
      pid=$(cat "$AZURITE_PID" 2>/dev/null || true)
      [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && grep -qa azurite "/proc/$pid/cmdline" 2>/dev/null || pid=""
      port=$BLOB_PORT
      ;;
    *) die "kill: unknown server '$1' (rabbitmq or azurite)" ;;
  esac
  [[ -n $pid ]] || die "kill $1: no running $1 started by this script"
  log "$1: SIGKILL pid $pid"
  kill -9 "$pid"
  local i
  for ((i = 0; i < 40; i++)); do
    alive "$pid" || break
    sleep 0.25
  done
  wait_port "$port" closed "$WAIT_S" || die "$1 still listening on 127.0.0.1:$port after SIGKILL"
  # What a crash leaves: the data folder as it was; the next `up` starts the server on it again.
  [[ $1 == rabbitmq ]] && rm -f "$RABBITMQ_PID_FILE"
  return 0
}

# ---------------------------------------------------------------- commands

print_env() {
  printf "export ConnectionStrings__rabbitmq='%s'\n" "$CS_RABBITMQ"
  printf "export ConnectionStrings__blobs='%s'\n" "$CS_BLOBS"
}

status() {
  local rc=0
  if listening "$RABBIT_PORT"; then echo "rabbitmq: listening on 127.0.0.1:$RABBIT_PORT"; else
    echo "rabbitmq: not listening on 127.0.0.1:$RABBIT_PORT"
    rc=1
  fi
  if listening "$BLOB_PORT"; then echo "azurite:  listening on 127.0.0.1:$BLOB_PORT"; else
    echo "azurite:  not listening on 127.0.0.1:$BLOB_PORT"
    rc=1
  fi
  [[ -f $STARTED ]] && echo "started by infra/local.sh: $(tr '\n' ' ' <"$STARTED")"
  return "$rc"
}

case "${1:-}" in
  up)
    mkdir -p "$STATE"
    rabbit_up
    azurite_up
    echo "Both servers are up. Connection strings (eval \"\$(infra/local.sh env)\" exports them):"
    print_env
    [[ ${INFRA_RABBITMQ_MANAGEMENT:-1} == 0 ]] ||
      echo "RabbitMQ management: http://127.0.0.1:15672/ (guest/guest, loopback only; from the next start when just enabled)"
    ;;
  down)
    mkdir -p "$STATE"
    rc=0
    (azurite_down) || rc=1
    (rabbit_down) || rc=1
    exit "$rc"
    ;;
  status) status ;;
  env) print_env ;;
  kill)
    mkdir -p "$STATE"
    kill_server "${2:-}"
    ;;
  ctl)
    shift
    rabbit_env
    exec rabbitmqctl "$@"
    ;;
  *)
    echo "usage: $0 up|down|status|env|kill rabbitmq|azurite|ctl RABBITMQCTL-ARGS..." >&2
    exit 2
    ;;
esac
