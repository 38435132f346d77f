#!/usr/bin/env bash
# Builds the solution and runs the Vidline services (services/services.tsv) as background processes.
#
#   scripts/services.sh start    build once (skip with SKIP_BUILD=1), start phase by phase, wait for each /health;
#                                TRANSCODERS=3 VALIDATORS=2 PACKAGERS=2 start more processes of a stage
#   scripts/services.sh stop     TERM, then KILL if a service is still there STOP_TIMEOUT (15) + 5 s later
#   scripts/services.sh status
#   scripts/services.sh metrics  where to scrape each node's Prometheus metrics
#
# Logs: $VIDLINE_STATE/logs/<service>.log   pids: $VIDLINE_STATE/pids/<service>.pid
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONFIGURATION="${CONFIGURATION:-Release}"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-60}"
LOG_DIR="$VIDLINE_STATE/logs"
PID_DIR="$VIDLINE_STATE/pids"
# How long a service may take to stop: every service is told (StageWork:StopTimeout: a stage node kills its ffmpeg and
# returns its message within it), and stop waits that long plus a margin before SIGKILL. One number for both.
STOP_TIMEOUT="${STOP_TIMEOUT:-15}"
[[ $STOP_TIMEOUT =~ ^[0-9]+$ ]] && ((STOP_TIMEOUT >= 1 && STOP_TIMEOUT < 3600)) || die "STOP_TIMEOUT=$STOP_TIMEOUT: expected seconds from 1 to 3599"

# services [--where COLUMN=VALUE]: node name, project folder, assembly and port (after <env>_PORT overrides) of each
# process to run, space-separated, in start order. A service with a `scale` variable (TRANSCODERS=3) runs that many
# nodes: <name>, <name>-2, ... on <port>, <port> + 100, ...
services() {
    local name dir assembly env scale port count i
    while IFS=$'\t' read -r name dir assembly env scale; do
        port="${env}_PORT"
        port=${!port}
        count=1
        [[ $scale == - ]] || count=${!scale:-1}
        [[ $count =~ ^[0-9]+$ ]] && ((count >= 1 && count <= 20)) || die "$scale=$count: expected a number from 1 to 20"
        for ((i = 1; i <= count; i++)); do
            if ((i == 1)); then printf '%s %s %s %s\n' "$name" "$dir" "$assembly" "$port"
            else printf '%s-%s %s %s %s\n' "$name" "$i" "$dir" "$assembly" "$((port + 100 * (i - 1)))"; fi
        done
    done < <(manifest "$@" name project assembly env scale)
}

# service_env PROJECT-DIR: the environment of one service. Only a service that uses the database (services.tsv) gets
# its connection string.
service_env() {
    if [[ $(manifest --where "project=$1" database) == yes ]]; then
        export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$PG_PASSWORD;Database=vidline;Persist Security Info=true"
    else
        unset ConnectionStrings__Postgres
    fi
    export RabbitMq__Host=127.0.0.1
    export RabbitMq__Port="$AMQP_PORT"
    export Storage__Root="$VIDLINE_STORAGE"
    StageWork__StopTimeout=$(printf '00:%02d:%02d' $((STOP_TIMEOUT / 60)) $((STOP_TIMEOUT % 60)))
    export StageWork__StopTimeout
    export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Production}"
    export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
}

# service_addresses: ServiceAddresses__<name>=<url> for every service, so the gateway can answer the edge's /health
# with each one's readiness (and find ingest-api's OpenAPI document).
service_addresses() {
    local name dir assembly port
    while read -r name dir assembly port; do
        printf 'ServiceAddresses__%s=http://127.0.0.1:%s\n' "$name" "$port"
    done < <(services)
}

build() {
    [[ ${SKIP_BUILD:-0} == 1 ]] && return 0
    command -v dotnet >/dev/null || die "dotnet is not on PATH"
    log "dotnet build Vidline.slnx -c $CONFIGURATION"
    (cd "$REPO_ROOT" && dotnet build Vidline.slnx -c "$CONFIGURATION" -nologo -v quiet -clp:ErrorsOnly) ||
        die "build failed"
}

health_ok() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/health" 2>/dev/null; }

start_one() {
    local name=$1 dir=$2 assembly=$3 port=$4
    local dll="$REPO_ROOT/$dir/bin/$CONFIGURATION/net10.0/$assembly.dll"
    local pidfile="$PID_DIR/$name.pid" logfile="$LOG_DIR/$name.log"
    if pid_alive "$pidfile" "$assembly.dll"; then
        log "$name already running (pid $(cat "$pidfile"))"
        return 0
    fi
    rm -f "$pidfile"
    [[ -f $dll ]] || die "$dll not found (build failed?)"
    port_open "$port" && die "port $port (for $name) is already taken by another process"
    printf '\n===== %s starting %s on :%s =====\n' "$(date -Is)" "$name" "$port" >>"$logfile"
    # The project folder is the working directory, so the content root (wwwroot, appsettings) is the source tree.
    (
        cd "$REPO_ROOT/$dir"
        service_env "$dir"
        [[ $dir != services/progress-gateway ]] || gateway_secrets
        # Names with a dash cannot be exported by bash; env(1) passes them.
        mapfile -t addresses < <(service_addresses)
        exec env "${addresses[@]}" "Service__Node=$name" setsid dotnet "$dll" --urls "http://127.0.0.1:$port" </dev/null >>"$logfile" 2>&1
    ) &
    echo $! >"$pidfile"
    log "started $name (pid $!) on http://127.0.0.1:$port"
}

wait_healthy() {
    local name=$1 port=$2 pidfile="$PID_DIR/$1.pid" deadline=$((SECONDS + HEALTH_TIMEOUT))
    while ((SECONDS < deadline)); do
        health_ok "$port" && { log "$name healthy"; return 0; }
        if ! pid_alive "$pidfile"; then
            log "$name exited during startup; last log lines:"
            tail -n 40 "$LOG_DIR/$name.log" >&2 || true
            return 1
        fi
        sleep 0.5
    done
    log "$name did not answer http://127.0.0.1:$port/health within ${HEALTH_TIMEOUT}s; last log lines:"
    tail -n 40 "$LOG_DIR/$name.log" >&2 || true
    return 1
}

any_running() {
    local name assembly pidfile
    while IFS=$'\t' read -r name assembly; do
        for pidfile in "$PID_DIR/$name.pid" "$PID_DIR/$name"-[0-9]*.pid; do
            [[ -e $pidfile ]] && pid_alive "$pidfile" "$assembly.dll" && return 0
        done
    done < <(manifest name assembly)
    return 1
}

cmd_start() {
    services >/dev/null # a bad TRANSCODERS=... stops here, not halfway through the start
    mkdir -p "$LOG_DIR" "$PID_DIR" "$VIDLINE_STORAGE"
    build
    # A broker that ran an older Vidline may hold classic queues that are quorum queues now: convert them before a
    # service declares them, and only while no node runs (the conversion moves messages past their consumers).
    if ! any_running; then VHOST=/ bash "$REPO_ROOT/scripts/queues.sh" upgrade; fi
    local phase name dir assembly port failed=0
    # The services of a phase start together; the next phase starts when they are all healthy.
    for phase in $(phases); do
        while read -r name dir assembly port; do
            start_one "$name" "$dir" "$assembly" "$port"
        done < <(services --where "phase=$phase")
        while read -r name dir assembly port; do
            wait_healthy "$name" "$port" || failed=1
        done < <(services --where "phase=$phase")
        ((failed)) && break
    done
    if ((failed)); then
        log "some services did not become healthy; stopping them"
        cmd_stop
        exit 1
    fi
    log "all services healthy"
}

cmd_stop() {
    local name assembly pidfile
    # Every node that was started, whatever TRANSCODERS etc. say now.
    while IFS=$'\t' read -r name assembly; do
        for pidfile in "$PID_DIR/$name.pid" "$PID_DIR/$name"-[0-9]*.pid; do
            [[ -e $pidfile ]] || continue
            if pid_alive "$pidfile" "$assembly.dll"; then
                stop_pid "$pidfile" "$(basename "$pidfile" .pid)" $((STOP_TIMEOUT + 5)) &
            else
                rm -f "$pidfile"
            fi
        done
    done < <(manifest name assembly)
    wait
}

cmd_status() {
    local name dir assembly port state
    while read -r name dir assembly port; do
        if pid_alive "$PID_DIR/$name.pid" "$assembly.dll"; then
            if health_ok "$port"; then state=healthy; else state=unhealthy; fi
            printf '%-17s %-9s :%s pid %s\n' "$name" "$state" "$port" "$(cat "$PID_DIR/$name.pid")"
        else
            printf '%-17s %-9s :%s\n' "$name" down "$port"
        fi
    done < <(services)
}

# The address of every node's Prometheus metrics (docs/operations.md has a scrape configuration).
cmd_metrics() {
    local name dir assembly port nodes
    nodes=$(services) # here, so a bad TRANSCODERS=... fails the command
    while read -r name dir assembly port; do
        printf '  %-17s http://127.0.0.1:%s/metrics\n' "$name" "$port"
    done <<<"$nodes"
}

case "${1:-}" in
    start) cmd_start ;;
    metrics) cmd_metrics ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
