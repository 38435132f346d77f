#!/usr/bin/env bash
# Vidline local infrastructure without systemd or Docker: RabbitMQ, PostgreSQL 15 and an nginx edge,
# each a plain background process whose state lives under $VIDLINE_STATE (default <repo>/.run).
#
#   scripts/infra.sh install                 apt-get install what is missing
#   scripts/infra.sh up   [rabbitmq|postgres] start (idempotent) and wait until they accept connections
#   scripts/infra.sh down [rabbitmq|postgres|edge] stop (default: all of ours)
#   scripts/infra.sh edge-up | edge-down     nginx edge on $EDGE_BIND:$EDGE_PORT
#   scripts/infra.sh status                  what is running
#   scripts/infra.sh is-up rabbitmq|postgres exit 0 when it accepts connections (ours or not)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APT_PACKAGES=(rabbitmq-server postgresql ffmpeg nginx chromium gettext-base curl jq socat fonts-dejavu-core) # jq, socat: bench/run.sh; fonts: test clips draw text

RABBIT_DIR="$VIDLINE_STATE/rabbitmq"
NGINX_DIR="$VIDLINE_STATE/nginx"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"

# PostgreSQL runs as the `postgres` user (initdb refuses root), so its folder must be reachable by that
# user. If the state folder is not (e.g. a checkout under /root), use a folder keyed by the state path.
pg_dir() {
    local dir="$VIDLINE_STATE/pg"
    if [[ $EUID -eq 0 ]] && ! runuser -u postgres -- test -x "$VIDLINE_STATE" 2>/dev/null; then
        dir="/var/tmp/vidline-pg-$(printf '%s' "$VIDLINE_STATE" | md5sum | cut -c1-12)"
    fi
    printf '%s\n' "$dir"
}

# ---------------------------------------------------------------------------------------------- install

cmd_install() {
    local missing=() p
    for p in "${APT_PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    # The web page's build (scripts/web.sh) needs Node.js 20.19+ and npm; the machine image ships them. Only where
    # they are missing altogether, take Debian's (its Node.js may be too old for Vite: web.sh says so if it is).
    command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "packages present: ${APT_PACKAGES[*]}"
        return 0
    fi
    local sudo=()
    [[ $EUID -eq 0 ]] || sudo=(sudo)
    log "installing: ${missing[*]}"
    # Package scripts must not start the system-wide rabbitmq/postgresql/nginx (they would take our ports):
    # a temporary policy-rc.d forbids it, unless one is already in place.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
        "${sudo[@]}" chmod +x "$policy"
        made_policy=1
    fi
    local rc=0
    {
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    } || rc=$?
    [[ $made_policy -eq 0 ]] || "${sudo[@]}" rm -f "$policy"
    [[ $rc -eq 0 ]] || die "apt-get failed (exit $rc)"
}

# --------------------------------------------------------------------------------------------- rabbitmq

rabbit_env() {
    export HOME="$RABBIT_DIR/home"
    export RABBITMQ_NODENAME=rabbit@localhost
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$AMQP_PORT" RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT"
    export RABBITMQ_MNESIA_BASE="$RABBIT_DIR/mnesia" RABBITMQ_LOG_BASE="$RABBIT_DIR/log"
    export RABBITMQ_PID_FILE="$RABBIT_DIR/rabbit.pid"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$RABBIT_DIR/enabled_plugins"
    export RABBITMQ_CONFIG_FILE="$RABBIT_DIR/rabbitmq"
    export ERL_EPMD_ADDRESS=127.0.0.1
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    export PATH="/usr/lib/rabbitmq/bin:$PATH"
}

rabbit_ours_running() {
    [[ -d $RABBIT_DIR/home ]] || return 1
    pid_alive "$RABBIT_DIR/rabbit.pid" || return 1
    (rabbit_env && rabbitmqctl -q status >/dev/null 2>&1)
}

rabbit_ready() { port_open "$AMQP_PORT" && curl -fsS -o /dev/null -u guest:guest "http://127.0.0.1:$RABBIT_UI_PORT/api/overview"; }

# The management UI and API, and the shovel that scripts/queues.sh uses to move messages back from _error queues.
RABBIT_PLUGINS=(rabbitmq_management rabbitmq_shovel rabbitmq_shovel_management)

rabbit_up() {
    if rabbit_ready; then
        if rabbit_ours_running; then
            log "rabbitmq already running (pid $(cat "$RABBIT_DIR/rabbit.pid"))"
            # A broker started by an older checkout may lack a plugin this one needs.
            grep -q rabbitmq_shovel_management "$RABBIT_DIR/enabled_plugins" 2>/dev/null ||
                (rabbit_env && rabbitmq-plugins -q enable "${RABBIT_PLUGINS[@]}" >/dev/null)
        else log "rabbitmq: something already serves 127.0.0.1:$AMQP_PORT and :$RABBIT_UI_PORT (not ours); using it"; fi
        return 0
    fi
    if port_open "$AMQP_PORT" && ! pid_alive "$RABBIT_DIR/rabbit.pid"; then
        die "port $AMQP_PORT is taken by another process that is not a ready RabbitMQ with management on $RABBIT_UI_PORT"
    fi
    [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || die "rabbitmq-server is not installed: run scripts/infra.sh install"
    mkdir -p "$RABBIT_DIR/home" "$RABBIT_DIR/mnesia" "$RABBIT_DIR/log"
    cat >"$RABBIT_DIR/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $RABBIT_UI_PORT
loopback_users.guest = true
# A stage holds its command unacknowledged for as long as the attempt runs (up to StageWork:DeadlineFactor × the
# media's duration); RabbitMQ's default of 30 minutes would take it back from a long encode and hand it out twice.
consumer_timeout = 86400000
EOF
    (
        rabbit_env
        if ! pid_alive "$RABBIT_DIR/rabbit.pid"; then
            rm -f "$RABBITMQ_PID_FILE" # stale pid file from a killed run
            rabbitmq-plugins enable --offline "${RABBIT_PLUGINS[@]}" >/dev/null
            log "starting rabbitmq (state $RABBIT_DIR)"
            setsid rabbitmq-server -detached </dev/null >>"$RABBIT_DIR/log/startup.log" 2>&1
        else
            log "rabbitmq process exists (pid $(cat "$RABBITMQ_PID_FILE")); waiting for it"
        fi
        local i
        for ((i = 0; i < 50; i++)); do [[ -s $RABBITMQ_PID_FILE ]] && break; sleep 0.2; done
        rabbitmqctl -q wait --timeout 90 "$RABBITMQ_PID_FILE" >/dev/null ||
            { tail -n 40 "$RABBIT_DIR"/log/*.log >&2 || true; die "rabbitmq did not start"; }
    )
    local i
    for ((i = 0; i < 120; i++)); do
        rabbit_ready && { log "rabbitmq ready: amqp://guest:guest@127.0.0.1:$AMQP_PORT  UI http://127.0.0.1:$RABBIT_UI_PORT"; return 0; }
        sleep 0.5
    done
    die "rabbitmq started but the management API on :$RABBIT_UI_PORT does not answer"
}

rabbit_down() {
    if ! pid_alive "$RABBIT_DIR/rabbit.pid"; then
        rm -f "$RABBIT_DIR/rabbit.pid"
        return 0
    fi
    local pid
    pid=$(cat "$RABBIT_DIR/rabbit.pid")
    log "stopping rabbitmq (pid $pid)"
    (rabbit_env && rabbitmqctl -q shutdown --timeout 60 >/dev/null 2>&1) || {
        log "rabbitmqctl shutdown failed; sending TERM"
        stop_pid "$RABBIT_DIR/rabbit.pid" rabbitmq 20
    }
    rm -f "$RABBIT_DIR/rabbit.pid"
}

# --------------------------------------------------------------------------------------------- postgres

pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }

pg_sql() { PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtAX "$@"; }

as_postgres() { if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_up() {
    local dir data
    dir=$(pg_dir)
    data="$dir/data"
    if ! pg_ready; then
        port_open "$PG_PORT" && die "port $PG_PORT is taken by a process that is not a ready PostgreSQL"
        [[ -x $PGBIN/pg_ctl ]] || die "PostgreSQL 15 is not installed: run scripts/infra.sh install"
        mkdir -p "$dir"
        [[ $EUID -ne 0 ]] || chown postgres:postgres "$dir"
        chmod 700 "$dir"
        if [[ ! -s $data/PG_VERSION ]]; then
            log "initdb $data"
            local pwfile="$dir/.pwfile"
            printf '%s\n' "$PG_PASSWORD" >"$pwfile"
            [[ $EUID -ne 0 ]] || chown postgres:postgres "$pwfile"
            as_postgres "$PGBIN/initdb" -D "$data" -U postgres --pwfile="$pwfile" \
                --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
                { rm -f "$pwfile"; cat "$dir/initdb.log" >&2; die "initdb failed"; }
            rm -f "$pwfile"
        fi
        # A postmaster.pid left by a killed server whose process is gone: pg_ctl/postgres normally cope,
        # but remove it when its pid is not a postgres process so a recycled pid cannot block start.
        if [[ -f $data/postmaster.pid ]] && ! pid_alive "$data/postmaster.pid" postgres; then
            log "removing stale $data/postmaster.pid"
            rm -f "$data/postmaster.pid"
        fi
        log "starting postgresql (data $data)"
        as_postgres "$PGBIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -c max_connections=300 -p $PG_PORT -k $dir" start </dev/null >/dev/null ||
            { tail -n 40 "$dir/server.log" >&2 || true; die "postgresql did not start"; }
        local i
        for ((i = 0; i < 120; i++)); do pg_ready && break; sleep 0.5; done
        pg_ready || die "postgresql does not accept connections on 127.0.0.1:$PG_PORT"
    elif [[ -f $data/postmaster.pid ]] && pid_alive "$data/postmaster.pid" postgres; then
        log "postgresql already running (pid $(head -n1 "$data/postmaster.pid"))"
    else
        log "postgresql: something already serves 127.0.0.1:$PG_PORT (not ours); using it"
    fi
    pg_sql -c 'select 1' >/dev/null ||
        die "cannot log in to 127.0.0.1:$PG_PORT as postgres/$PG_PASSWORD (is another PostgreSQL on that port?)"
    if [[ -z $(pg_sql -c "select 1 from pg_database where datname = 'vidline'") ]]; then
        pg_sql -c 'create database vidline' >/dev/null 2>&1 || true # a service may have raced us
    fi
    log "postgresql ready: postgresql://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/vidline"
}

pg_down() {
    local dir data
    dir=$(pg_dir)
    data="$dir/data"
    [[ -f $data/postmaster.pid ]] || return 0
    if pid_alive "$data/postmaster.pid" postgres; then
        log "stopping postgresql (pid $(head -n1 "$data/postmaster.pid"))"
        as_postgres "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null ||
            as_postgres "$PGBIN/pg_ctl" -D "$data" -m immediate -w stop >/dev/null || true
    else
        rm -f "$data/postmaster.pid"
    fi
}

# ------------------------------------------------------------------------------------------------- edge

nginx_pid() { printf '%s\n' "$NGINX_DIR/nginx.pid"; }

# edge_capacity: the descriptors each nginx worker may open and the connections it takes. A worker cannot raise its
# limit above the hard limit nginx starts with (worker_rlimit_nofile fails without CAP_SYS_RESOURCE), so this shell
# raises its soft limit to the hard one (nginx inherits it) and sizes the workers to what it got, up to 65,536
# descriptors; a worker takes as many connections as it has descriptors, less a margin for files it serves.
# The per-client limits: EDGE_STREAMS_PER_IP concurrent SSE streams, EDGE_REQUESTS_PER_IP concurrent other requests.
edge_capacity() {
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    local files
    files=$(ulimit -n)
    [[ $files == unlimited ]] && files=65536
    ((files <= 65536)) || files=65536
    export EDGE_WORKER_FILES="${EDGE_WORKER_FILES:-$files}"
    export EDGE_WORKER_CONNECTIONS="${EDGE_WORKER_CONNECTIONS:-$((EDGE_WORKER_FILES > 2048 ? EDGE_WORKER_FILES - 1024 : EDGE_WORKER_FILES / 2))}"
    export EDGE_STREAMS_PER_IP="${EDGE_STREAMS_PER_IP:-200}" EDGE_REQUESTS_PER_IP="${EDGE_REQUESTS_PER_IP:-100}"
    local v
    for v in EDGE_WORKER_FILES EDGE_WORKER_CONNECTIONS EDGE_STREAMS_PER_IP EDGE_REQUESTS_PER_IP; do
        [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v=${!v}: expected a positive number"
    done
}

edge_render() {
    local template="$REPO_ROOT/scripts/nginx/vidline.conf.template" out="$NGINX_DIR/nginx.conf"
    [[ -f $template ]] || die "missing $template"
    mkdir -p "$NGINX_DIR"/{logs,tmp/client_body,tmp/proxy,tmp/fastcgi,tmp/uwsgi,tmp/scgi} "$VIDLINE_STORAGE/outputs"
    export EDGE_PORT EDGE_BIND VIDLINE_STORAGE
    export NGINX_USER="${NGINX_USER:-$(id -un)}"
    export NGINX_MIME_TYPES="${NGINX_MIME_TYPES:-/etc/nginx/mime.types}"
    export NGINX_PID_FILE="$(nginx_pid)" NGINX_LOG_DIR="$NGINX_DIR/logs" NGINX_TEMP_DIR="$NGINX_DIR/tmp"
    edge_capacity
    # Checks the output links the gateway signs (its Outputs:SigningSecret, from the same file: services.sh).
    OUTPUT_SIGNING_SECRET=$(state_secret output-signing-secret OUTPUT_SIGNING_SECRET)
    export OUTPUT_SIGNING_SECRET
    local vars=(NGINX_USER NGINX_PID_FILE NGINX_LOG_DIR NGINX_TEMP_DIR NGINX_MIME_TYPES EDGE_PORT EDGE_BIND VIDLINE_STORAGE
        EDGE_WORKER_FILES EDGE_WORKER_CONNECTIONS EDGE_STREAMS_PER_IP EDGE_REQUESTS_PER_IP OUTPUT_SIGNING_SECRET)
    # The upstreams: each service the edge proxies to (services/services.tsv), here on loopback.
    local env host
    for env in $(manifest --where edge=yes env); do
        host="${env}_HOST"
        export "$host=${!host:-127.0.0.1}" "${env}_PORT"
        vars+=("$host" "${env}_PORT")
    done
    # The rendered file holds a secret: only its owner reads it.
    if command -v envsubst >/dev/null; then
        (umask 077 && envsubst "$(printf '${%s} ' "${vars[@]}")" <"$template" >"$out.new")
    else
        local v sed_args=()
        for v in "${vars[@]}"; do sed_args+=(-e "s|\${$v}|${!v}|g"); done
        (umask 077 && sed "${sed_args[@]}" "$template" >"$out.new")
    fi
    nginx -t -q -c "$out.new" -p "$NGINX_DIR/" 2>"$NGINX_DIR/nginx-t.log" ||
        { cat "$NGINX_DIR/nginx-t.log" >&2; die "nginx -t rejected $out.new"; }
    mv "$out.new" "$out"
}

edge_up() {
    command -v nginx >/dev/null || die "nginx is not installed: run scripts/infra.sh install"
    edge_render
    local conf="$NGINX_DIR/nginx.conf"
    if pid_alive "$(nginx_pid)" nginx; then
        edge_reload "$conf"
        log "edge reloaded: http://$EDGE_BIND:$EDGE_PORT/"
        return 0
    fi
    rm -f "$(nginx_pid)"
    port_open "$EDGE_PORT" "$EDGE_BIND" && die "port $EDGE_PORT is already taken"
    setsid nginx -c "$conf" -p "$NGINX_DIR/" </dev/null >>"$NGINX_DIR/logs/startup.log" 2>&1 ||
        { cat "$NGINX_DIR/logs/startup.log" >&2; die "nginx did not start"; }
    local i
    for ((i = 0; i < 50; i++)); do
        port_open "$EDGE_PORT" "$EDGE_BIND" && { log "edge up: http://$EDGE_BIND:$EDGE_PORT/ (nginx pid $(cat "$(nginx_pid)"))"; return 0; }
        sleep 0.1
    done
    die "nginx started but does not listen on $EDGE_BIND:$EDGE_PORT"
}

# edge_reload CONF: a reload is asynchronous (the signal returns at once). Until the old workers have been told to stop
# they still accept connections under the old configuration, and one accepted just as it stops can be left unanswered.
# So wait until each old worker is gone or says it is shutting down: then every new connection meets the new one.
edge_reload() {
    local master old pid i waiting
    master=$(cat "$(nginx_pid)")
    old=$(ps -o pid=,args= --ppid "$master" | awk '/worker process$/ {print $1}')
    nginx -c "$1" -p "$NGINX_DIR/" -s reload 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        waiting=0
        for pid in $old; do
            ps -o args= -p "$pid" 2>/dev/null | grep -q 'worker process$' && waiting=1
        done
        ((waiting)) || return 0
        sleep 0.1
    done
    log "warning: the edge's old workers still accept connections 10 s after the reload"
}

edge_down() {
    pid_alive "$(nginx_pid)" nginx || { rm -f "$(nginx_pid)"; return 0; }
    local pid i
    pid=$(cat "$(nginx_pid)")
    nginx -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR/" -s quit 2>/dev/null || kill -QUIT "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do pid_running "$pid" || break; sleep 0.1; done
    if pid_running "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
    rm -f "$(nginx_pid)"
    log "edge stopped (nginx pid $pid)"
}

# ----------------------------------------------------------------------------------------------- status

cmd_status() {
    local dir
    dir=$(pg_dir)
    if pg_ready; then
        if pid_alive "$dir/data/postmaster.pid" postgres; then echo "postgresql  up    127.0.0.1:$PG_PORT  pid $(head -n1 "$dir/data/postmaster.pid")  data $dir/data"
        else echo "postgresql  up    127.0.0.1:$PG_PORT  (not ours)"; fi
    else echo "postgresql  down"; fi
    if rabbit_ready; then
        if pid_alive "$RABBIT_DIR/rabbit.pid"; then echo "rabbitmq    up    127.0.0.1:$AMQP_PORT  UI :$RABBIT_UI_PORT  pid $(cat "$RABBIT_DIR/rabbit.pid")"
        else echo "rabbitmq    up    127.0.0.1:$AMQP_PORT  UI :$RABBIT_UI_PORT  (not ours)"; fi
    elif pid_alive "$RABBIT_DIR/rabbit.pid"; then echo "rabbitmq    starting/unhealthy  pid $(cat "$RABBIT_DIR/rabbit.pid")"
    else echo "rabbitmq    down"; fi
    if pid_alive "$(nginx_pid)" nginx; then echo "edge        up    http://$EDGE_BIND:$EDGE_PORT/  pid $(cat "$(nginx_pid)")"
    else echo "edge        down"; fi
    local f name
    for f in "$VIDLINE_STATE"/pids/*.pid; do
        [[ -e $f ]] || continue
        name=$(basename "$f" .pid)
        if pid_alive "$f" dotnet; then echo "service     up    $name  pid $(cat "$f")"; else echo "service     dead  $name  (stale pid file)"; fi
    done
}

# ------------------------------------------------------------------------------------------------- main

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

cmd=${1:-}
shift || true
case "$cmd" in
    install) cmd_install ;;
    up)
        case "${1:-all}" in
            all) rabbit_up; pg_up ;;
            rabbitmq) rabbit_up ;;
            postgres) pg_up ;;
            *) usage ;;
        esac ;;
    down)
        case "${1:-all}" in
            all) edge_down; rabbit_down; pg_down ;;
            rabbitmq) rabbit_down ;;
            postgres) pg_down ;;
            edge) edge_down ;;
            *) usage ;;
        esac ;;
    is-up)
        case "${1:-}" in
            rabbitmq) rabbit_ready ;;
            postgres) pg_ready ;;
            edge) pid_alive "$(nginx_pid)" nginx ;;
            *) usage ;;
        esac ;;
    edge-up) edge_up ;;
    edge-down) edge_down ;;
    status) cmd_status ;;
    *) usage ;;
esac
