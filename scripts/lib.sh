# Shared settings for scripts/*.sh (sourced, not executed).
# Every path and port can be overridden from the environment.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VIDLINE_STATE="${VIDLINE_STATE:-$REPO_ROOT/.run}"
mkdir -p "$VIDLINE_STATE"
VIDLINE_STATE="$(cd "$VIDLINE_STATE" && pwd)"
VIDLINE_STORAGE="${VIDLINE_STORAGE:-$VIDLINE_STATE/storage}"
export VIDLINE_STATE VIDLINE_STORAGE
# MassTransit 8.4 phones home with usage telemetry unless told not to; this covers the test harnesses and the bench
# tool too (the services also switch it off in code).
export MASSTRANSIT_USAGE_TELEMETRY=false DOTNET_CLI_TELEMETRY_OPTOUT=1

# The services (name, project, assembly, port, start phase, ...) are listed once, in services/services.tsv.
SERVICES_MANIFEST="$REPO_ROOT/services/services.tsv"

# manifest [--where COLUMN=VALUE] COLUMN...: those columns of each service, tab-separated, in start order.
manifest() {
    local where=
    if [[ ${1:-} == --where ]]; then where=$2; shift 2; fi
    awk -v columns="$*" -v where="$where" -f "$REPO_ROOT/scripts/manifest.awk" "$SERVICES_MANIFEST"
}

# phases: the start phases, first to last (a phase starts when every service of the one before is healthy).
phases() { manifest phase | uniq; }

# Each service's port: <env>_PORT (INGEST_PORT, ..., GATEWAY_PORT) from the environment, else the manifest's default.
_ports=$(manifest env port) || { echo "[vidline] ERROR: cannot read $SERVICES_MANIFEST" >&2; exit 1; }
while IFS=$'\t' read -r _env _port; do
    _variable="${_env}_PORT"
    printf -v "$_variable" '%s' "${!_variable:-$_port}"
done <<<"$_ports"
unset _ports _env _port _variable
EDGE_PORT="${EDGE_PORT:-8080}"
EDGE_BIND="${EDGE_BIND:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_PASSWORD="${PG_PASSWORD:-vidline}"
AMQP_PORT="${AMQP_PORT:-5672}"
RABBIT_UI_PORT="${RABBIT_UI_PORT:-15672}"
RABBIT_DIST_PORT="${RABBIT_DIST_PORT:-25672}"

log() { printf '\033[1;34m[vidline]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[vidline] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }

# port_open PORT [HOST]: true when something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }

# pid_running PID: the process exists and is not a zombie (PID 1 here may be slow to reap orphans).
pid_running() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [[ -n $state && $state != Z ]]
}

# pid_alive PIDFILE [CMDLINE-SUBSTRING]: true when the pid in the file is a live process
# (and, if given, its command line contains the substring, so a recycled pid does not count).
pid_alive() {
    local file=$1 want=${2:-} pid
    [[ -s $file ]] || return 1
    pid=$(head -n1 "$file" | tr -dc '0-9')
    [[ -n $pid ]] && pid_running "$pid" || return 1
    if [[ -n $want ]]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$want" || return 1
    fi
}

# stop_pid PIDFILE NAME [GRACE-SECONDS]: TERM, then KILL after the grace period.
stop_pid() {
    local file=$1 name=$2 grace=${3:-10} pid i
    [[ -s $file ]] || return 0
    pid=$(head -n1 "$file" | tr -dc '0-9')
    if [[ -n $pid ]] && pid_running "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < grace * 10; i++)); do
            pid_running "$pid" || break
            sleep 0.1
        done
        if pid_running "$pid"; then
            log "$name (pid $pid) did not stop in ${grace}s; killing"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        log "stopped $name (pid $pid)"
    fi
    rm -f "$file"
}

# random_base64url: 32 random bytes as base64url without padding (43 characters): secrets and API keys.
random_base64url() { head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='; }

# state_secret FILE VARIABLE: the secret in $VARIABLE if set, else the one in $VIDLINE_STATE/FILE, generated there once
# (32 random bytes, base64url) and readable only by its owner. The edge and the gateway read the same file, so
# they agree however often either restarts.
state_secret() {
    local file="$VIDLINE_STATE/$1" variable=$2
    if [[ -n ${!variable:-} ]]; then printf '%s\n' "${!variable}"; return 0; fi
    if [[ ! -s $file ]]; then
        (umask 077 && random_base64url >"$file.new" && mv "$file.new" "$file")
    fi
    cat "$file"
}

# gateway_secrets: what only the gateway signs with, shared by all its instances through $VIDLINE_STATE (the edge
# checks output links with the same output-signing-secret).
gateway_secrets() {
    Streams__TokenSecret=$(state_secret stream-token-secret STREAM_TOKEN_SECRET)
    Outputs__SigningSecret=$(state_secret output-signing-secret OUTPUT_SIGNING_SECRET)
    export Streams__TokenSecret Outputs__SigningSecret
}
