#!/usr/bin/env bash
# What the Makefile targets do, in one place.
#
#   scripts/stack.sh run     install + infra up + services + edge, then follow the logs; Ctrl-C stops what it started
#   scripts/stack.sh up      the same, detached
#   scripts/stack.sh stop    stop services, edge and infrastructure
#   scripts/stack.sh test    install + infra up, dotnet test, then stop the infrastructure this run started
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INFRA="$REPO_ROOT/scripts/infra.sh"
SERVICES="$REPO_ROOT/scripts/services.sh"
WEB="$REPO_ROOT/scripts/web.sh"
KEYS="$REPO_ROOT/scripts/keys.sh"

# Which of rabbitmq/postgres are not up yet (so this run owns them and may stop them afterwards).
STARTED=()
infra_up() {
    local c
    bash "$INFRA" install
    for c in rabbitmq postgres; do
        bash "$INFRA" is-up "$c" || STARTED+=("$c")
    done
    bash "$INFRA" up
}
infra_down_started() {
    local c
    for c in "${STARTED[@]}"; do bash "$INFRA" down "$c" || true; done
}

# The development key (tenant "dev"), created once into $VIDLINE_STATE/api-key, and how to use it.
banner() {
    local key
    key=$(bash "$KEYS" dev-key)
    cat <<EOF

Vidline is up: web page http://localhost:$EDGE_PORT/  RabbitMQ UI http://localhost:$RABBIT_UI_PORT (guest/guest)
API key of tenant dev (also in $VIDLINE_STATE/api-key; more: make key TENANT=name): $key
API: curl -H "Authorization: Bearer \$(cat $VIDLINE_STATE/api-key)" -F video=@clip.mp4 -F key=clip.mp4 http://localhost:$EDGE_PORT/process
Health: http://localhost:$EDGE_PORT/health  Prometheus metrics (scrape config: docs/operations.md):
$(bash "$SERVICES" metrics)

EOF
}

cmd_up() {
    infra_up
    bash "$WEB"
    bash "$SERVICES" start
    bash "$INFRA" edge-up
    banner
}

EDGE_WAS_UP=0
TAIL_PID=
cmd_run() {
    infra_up
    bash "$WEB"
    if bash "$INFRA" is-up edge; then EDGE_WAS_UP=1; fi
    cleanup() {
        trap - INT TERM EXIT
        if [[ -n $TAIL_PID ]]; then kill "$TAIL_PID" 2>/dev/null || true; fi
        echo
        log "stopping"
        bash "$SERVICES" stop || true
        if ((!EDGE_WAS_UP)); then bash "$INFRA" edge-down || true; fi
        infra_down_started
    }
    trap 'cleanup; exit 130' INT TERM
    trap cleanup EXIT
    bash "$SERVICES" start
    bash "$INFRA" edge-up
    banner
    log "following logs in $VIDLINE_STATE/logs (Ctrl-C stops)"
    tail -n 0 -F "$VIDLINE_STATE"/logs/*.log &
    TAIL_PID=$!
    wait "$TAIL_PID" || true
}

cmd_stop() {
    bash "$SERVICES" stop
    bash "$INFRA" down
}

cmd_test() {
    infra_up
    local rc=0 log="$VIDLINE_STATE/logs/test.log"
    # The page's unit tests, and its build: the browser tests drive it and inject axe-core from web/node_modules.
    bash "$WEB" test || rc=$?
    mkdir -p "$(dirname "$log")"
    # Build once, then run the test projects one after another: the end-to-end tests start whole
    # pipelines, and two at once on a 2-core machine would only make both slow.
    (cd "$REPO_ROOT" && dotnet build Vidline.slnx -c Release -nologo -v quiet &&
        dotnet test Vidline.slnx -c Release --no-build -m:1 2>&1 | tee "$log"; exit "${PIPESTATUS[0]}") || rc=$?
    # One closing line for the whole run, summed over the test projects.
    sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
        /(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { g = $(i + 1); gsub(/,/, "", g)
            if ($i == "Failed:") f += g; if ($i == "Passed:") p += g; if ($i == "Skipped:") s += g } }
        END { if (p + f > 0) printf "%d passed, %d failed, %d skipped\n", p, f, s }'
    infra_down_started
    return "$rc"
}

case "${1:-}" in
    run) cmd_run ;;
    up) cmd_up ;;
    stop) cmd_stop ;;
    test) cmd_test ;;
    *) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
