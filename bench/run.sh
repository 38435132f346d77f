#!/usr/bin/env bash
# Vidline benchmarks (`make bench`). Results: bench/results/<timestamp>/ and a summary on stdout; docs/performance.md
# explains them. Everything runs against 127.0.0.1 in its own RabbitMQ vhost, PostgreSQL database, storage folder and
# ports, so a running `make run` is not disturbed; nothing this script starts outlives it.
#
#   A  one generated clip through the whole pipeline (edge → ingest → transcoder → validator → packager) versus the
#      same ffmpeg work run bare by bench/bare.sh, per stage; ratio pipeline / bare (goal ≤ 1.10)
#   B  the ladder from one decode in one process (LadderTranscoder) versus one process per rung (bench/ladder.sh)
#   C  progress-gateway SSE latency, publish → client, and memory per connection; baseline: clients polling
#      GET /jobs/{id} once a second (bench/SseLatency)
#   D  progress-gateway ingest: ProgressReported → rows in progress_events, events/s and none lost; baseline:
#      single-row INSERTs
#   E  E_CLIENTS SSE streams (10,000) through the nginx edge (scripts/infra.sh edge-up: make run's configuration)
#      versus straight to the gateway: connected, refused, latency, the gateway's and nginx's memory; then
#      E_FLOOD_CLIENTS (1,000) from one address against the default per-address limit (refused with 429)
#      (one command: PARTS=E SKIP_BUILD=1 bash bench/run.sh)
#
# Knobs (environment): PARTS="A B C D E"  CLIP_SECONDS=60  RUNS=2 (A)  B_RUNS=1
#   SSE_SIZES="1000:100 10000:1000" (clients:events per second)  SSE_SECONDS=20  POLL_CLIENTS=1000  POLL_RATE=100
#   INGEST_COUNT=50000  E_CLIENTS=10000 E_RATE=100 E_SECONDS=10 E_FLOOD_CLIENTS=1000
#   SKIP_BUILD=1 (use the existing Release build)
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../scripts/lib.sh
source "$BENCH_DIR/../scripts/lib.sh"

PARTS=${PARTS:-A B C D E}
CLIP_SECONDS=${CLIP_SECONDS:-60}
RUNS=${RUNS:-2}
B_RUNS=${B_RUNS:-1}
SSE_SIZES=${SSE_SIZES:-1000:100 10000:1000}
SSE_SECONDS=${SSE_SECONDS:-20}
POLL_CLIENTS=${POLL_CLIENTS:-1000}
POLL_RATE=${POLL_RATE:-100}
INGEST_COUNT=${INGEST_COUNT:-50000}
E_CLIENTS=${E_CLIENTS:-10000}
E_RATE=${E_RATE:-100}
E_SECONDS=${E_SECONDS:-10}
E_FLOOD_CLIENTS=${E_FLOOD_CLIENTS:-1000}
CONFIGURATION=Release

RUN_ID=$(date +%Y%m%d-%H%M%S)
OUT="$BENCH_DIR/results/$RUN_ID"
STATE="$OUT/state"   # storage, logs, pids, nginx of this run
mkdir -p "$OUT" "$STATE/logs" "$STATE/pids"
ln -sfn "$RUN_ID" "$BENCH_DIR/results/latest"
SUMMARY="$OUT/summary.txt"
TAG="bench_${RUN_ID//-/_}"
PG="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$PG_PASSWORD"

say() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $* }"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
psql_db() { PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtAX -d "$1" "${@:2}"; }
# api_key DATABASE: a new API key of tenant "bench" in that database (the services have migrated it), by scripts/keys.sh.
api_key() { VIDLINE_STATE="$STATE" PG_DATABASE="$1" bash "$REPO_ROOT/scripts/keys.sh" create bench 2>/dev/null | tail -n1; }
rabbit_api() { curl -fsS -u guest:guest -H 'content-type: application/json' "$@"; }

# ---------------------------------------------------------------------------------------- isolation and cleanup

VHOSTS=() DATABASES=() EDGE_UP=0
make_vhost() {
    rabbit_api -X PUT "http://127.0.0.1:$RABBIT_UI_PORT/api/vhosts/$1" -d '{}' >/dev/null
    rabbit_api -X PUT "http://127.0.0.1:$RABBIT_UI_PORT/api/permissions/$1/guest" -d '{"configure":".*","write":".*","read":".*"}' >/dev/null
    VHOSTS+=("$1")
}

# start_service NAME PROJECT-DIR ASSEMBLY PORT VHOST DATABASE: one service process, as scripts/services.sh runs it.
start_service() {
    local name=$1 dir=$2 assembly=$3 port=$4 vhost=$5 db=$6
    local dll="$REPO_ROOT/$dir/bin/$CONFIGURATION/net10.0/$assembly.dll"
    [[ -f $dll ]] || die "$dll not found (build failed?)"
    (
        cd "$REPO_ROOT/$dir"
        export ConnectionStrings__Postgres="$PG;Database=$db" RabbitMq__VirtualHost="$vhost" Storage__Root="$STATE/storage"
        export ASPNETCORE_ENVIRONMENT=Production DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
        # The secrets of this run's state folder, which its edge checks output links with too.
        [[ $dir != services/progress-gateway ]] || VIDLINE_STATE="$STATE" gateway_secrets
        exec dotnet "$dll" --urls "http://127.0.0.1:$port" </dev/null >>"$STATE/logs/$name.log" 2>&1
    ) &
    echo $! >"$STATE/pids/$name.pid"
}

wait_healthy() {
    local name=$1 port=$2 deadline=$((SECONDS + 90))
    until curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$port/health"; do
        pid_alive "$STATE/pids/$name.pid" || { tail -n 30 "$STATE/logs/$name.log" >&2; die "$name exited during startup"; }
        ((SECONDS < deadline)) || die "$name not healthy after 90 s"
        sleep 0.5
    done
}

stop_services() {
    local f
    for f in "$STATE"/pids/*.pid; do [[ -e $f ]] && stop_pid "$f" "$(basename "$f" .pid)" 10; done
    return 0
}

cleanup() {
    trap - EXIT INT TERM
    stop_services
    if ((EDGE_UP)); then VIDLINE_STATE="$STATE" bash "$REPO_ROOT/scripts/infra.sh" edge-down >/dev/null 2>&1 || true; fi
    local v d
    for v in "${VHOSTS[@]}"; do rabbit_api -X DELETE "http://127.0.0.1:$RABBIT_UI_PORT/api/vhosts/$v" >/dev/null 2>&1 || true; done
    for d in "${DATABASES[@]}"; do psql_db postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true; done
    rm -rf "$STATE/storage" "$OUT/work" "$OUT"/clip-*.mp4
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------------- setup

# Many SSE connections need many descriptors, in this script's children (gateway, load generator) too.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

bash "$REPO_ROOT/scripts/infra.sh" install >/dev/null # what a fresh machine lacks (jq, ffmpeg, ...)
bash "$REPO_ROOT/scripts/infra.sh" up >/dev/null # RabbitMQ + PostgreSQL (idempotent; left running afterwards)
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    log "building services (Release) and bench/SseLatency"
    # Others may be mid-edit: if the solution does not build, fall back to the last Release build and say so.
    (cd "$REPO_ROOT" && dotnet build Vidline.slnx -c Release -nologo -v quiet -clp:ErrorsOnly) >"$OUT/build.log" 2>&1 ||
        BUILD_NOTE="solution build FAILED (see build.log); services ran from the previous Release build"
fi
(cd "$BENCH_DIR/SseLatency" && dotnet build -c Release -nologo -v quiet -clp:ErrorsOnly) >>"$OUT/build.log" 2>&1 ||
    { cat "$OUT/build.log" >&2; die "bench/SseLatency build failed"; }
LOADGEN=(dotnet "$BENCH_DIR/SseLatency/bin/Release/net10.0/SseLatency.dll")

{
    say "Vidline bench $RUN_ID  (git $(git -C "$REPO_ROOT" rev-parse --short HEAD)$(git -C "$REPO_ROOT" diff --quiet HEAD -- services shared || echo ', working tree has uncommitted changes in services/ or shared/'))"
    [[ -z ${BUILD_NOTE:-} ]] || say "WARNING: $BUILD_NOTE"
    say "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
    say "ffmpeg: $(ffmpeg -version | head -n1)"
    say "dotnet: $(dotnet --version)  load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    say "results: $OUT"
}

CLIP="$OUT/clip-${CLIP_SECONDS}s.mp4"
make_clip() {
    [[ -f $CLIP ]] && return 0
    # 10 s of testsrc2 1080p25 + a 440 Hz tone, encoded once and looped by stream copy: the content repeats every 10 s.
    local seg=$((CLIP_SECONDS < 10 ? CLIP_SECONDS : 10))
    ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=1920x1080:rate=25" \
        -f lavfi -i "sine=frequency=440:sample_rate=48000" -t "$seg" -c:v libx264 -preset veryfast -g 50 \
        -pix_fmt yuv420p -c:a aac -b:a 128k "$OUT/segment.mp4"
    ffmpeg -nostdin -hide_banner -loglevel error -y -stream_loop $(((CLIP_SECONDS + seg - 1) / seg - 1)) -i "$OUT/segment.mp4" \
        -c copy -t "$CLIP_SECONDS" -movflags +faststart "$CLIP"
    rm -f "$OUT/segment.mp4"
}

# ------------------------------------------------------------------------------------------ A: pipeline vs bare

STAGES=(uploading transcoding validation packaging storage)

# pipeline_job: one upload through the edge; prints "stage seconds" lines and "total seconds".
# Stage times come from the job's events in PostgreSQL: a stage runs from the saga's `stage` event for it to the next
# stage's (the last one to `done`); uploading runs from the start of the POST. total = POST start → the job's SSE
# stream delivers `done` (one idle connection: polling would itself steal CPU from ffmpeg on 2 cores).
pipeline_job() {
    local t0 t1 body job status
    t0=$(now)
    body=$(curl -fsS -H "$PIPE_AUTH" -F "video=@$CLIP;type=video/mp4" -F key=bench.mp4 "http://127.0.0.1:$EDGE/process")
    job=$(jq -r .job_id <<<"$body")
    curl -fsSN -H "$PIPE_AUTH" --max-time 900 "http://127.0.0.1:$EDGE/jobs/$job/stream" | grep -q -m1 '^event: done' ||
        die "pipeline job $job: no done within 900 s (logs: $STATE/logs)"
    t1=$(now)
    status=$(curl -fsS -H "$PIPE_AUTH" "http://127.0.0.1:$EDGE/jobs/$job" | jq -r .status)
    [[ $status == completed ]] || die "pipeline job $job $status (logs: $STATE/logs)"
    psql_db "$PIPE_DB" -F ' ' -c "
        SELECT CASE WHEN type = 'done' THEN 'done' ELSE stage END, extract(epoch FROM min(created_at))
        FROM progress_events WHERE job_id = '$job' AND type IN ('stage', 'done') GROUP BY 1" >"$OUT/work/marks"
    local -A mark=([uploading]=$t0)
    local s v
    while read -r s v; do [[ $s == uploading ]] || mark[$s]=$v; done <"$OUT/work/marks"
    local next=(transcoding validation packaging storage done) i
    for i in "${!STAGES[@]}"; do
        echo "${STAGES[i]} $(calc "${mark[${next[i]}]} - ${mark[${STAGES[i]}]}")"
    done
    echo "total $(calc "$t1 - $t0")"
    echo "job $job"
}

part_a() {
    make_clip
    mkdir -p "$OUT/work"
    PIPE_DB="vidline_${TAG}_pipe"
    local vhost="${TAG}_pipe"
    make_vhost "$vhost"
    DATABASES+=("$PIPE_DB")
    local name dir assembly env phase ports=()
    local -A port=()
    while IFS=$'\t' read -r name env; do
        port[$name]=$(free_port)
        ports+=("${env}_PORT=${port[$name]}") # what the edge proxies to
    done < <(manifest name env)
    EDGE=$(free_port)
    log "A: starting an isolated pipeline (vhost $vhost, database $PIPE_DB, edge :$EDGE)"
    # Phase by phase (services/services.tsv): the next phase starts when this one is healthy.
    for phase in $(phases); do
        while IFS=$'\t' read -r name dir assembly; do
            start_service "$name" "$dir" "$assembly" "${port[$name]}" "$vhost" "$PIPE_DB"
        done < <(manifest --where "phase=$phase" name project assembly)
        for name in $(manifest --where "phase=$phase" name); do wait_healthy "$name" "${port[$name]}"; done
    done
    PIPE_AUTH="Authorization: Bearer $(api_key "$PIPE_DB")"
    env VIDLINE_STATE="$STATE" VIDLINE_STORAGE="$STATE/storage" EDGE_PORT="$EDGE" "${ports[@]}" \
        bash "$REPO_ROOT/scripts/infra.sh" edge-up >/dev/null 2>&1
    EDGE_UP=1

    # Alternate pipeline and bare runs so drift in machine load hits both alike.
    local r
    for ((r = 1; r <= RUNS; r++)); do
        log "A: run $r/$RUNS pipeline (load $(cut -d' ' -f1 /proc/loadavg))"
        pipeline_job | tee "$OUT/a-pipeline-$r.txt" >&2
        log "A: run $r/$RUNS bare (load $(cut -d' ' -f1 /proc/loadavg))"
        bash "$BENCH_DIR/bare.sh" "$CLIP" "$OUT/work/bare" | tee "$OUT/a-bare-$r.txt" >&2
    done
    stop_services
    VIDLINE_STATE="$STATE" bash "$REPO_ROOT/scripts/infra.sh" edge-down >/dev/null 2>&1 || true
    EDGE_UP=0

    say ""
    say "A. ${CLIP_SECONDS} s 1080p25 clip, pipeline vs bare ffmpeg (median of $RUNS; seconds)"
    say "$(printf '   %-12s %9s %9s %7s' stage pipeline bare ratio)"
    local s p b
    for s in "${STAGES[@]}" total; do
        p=$(cat "$OUT"/a-pipeline-*.txt | awk -v s="$s" '$1 == s { printf "%s ", $2 }' | median)
        b=$(cat "$OUT"/a-bare-*.txt | awk -v s="$s" '$1 == s { printf "%s ", $2 }' | median)
        say "$(printf '   %-12s %9.2f %9.2f %7s' "$s" "$p" "$b" "$(awk -v p="$p" -v b="$b" 'BEGIN { printf (b > 0 ? "%.2f" : "-"), p / b }')")"
    done
    say "   runs: pipeline total $(awk '$1 == "total" { printf "%s ", $2 }' "$OUT"/a-pipeline-*.txt)| bare total $(awk '$1 == "total" { printf "%s ", $2 }' "$OUT"/a-bare-*.txt)"
}

# ------------------------------------------------------------------------------------ B: one decode vs per rung

part_b() {
    make_clip
    mkdir -p "$OUT/work"
    local r m
    for ((r = 1; r <= B_RUNS; r++)); do
        for m in single parallel sequential; do
            log "B: run $r/$B_RUNS $m (load $(cut -d' ' -f1 /proc/loadavg))"
            bash "$BENCH_DIR/ladder.sh" "$CLIP" "$OUT/work/ladder-$m" "$m" | tee -a "$OUT/b-$m.txt" >&2
        done
    done
    say ""
    say "B. ladder of ${CLIP_SECONDS} s 1080p25: one process (one decode) vs one process per rung (median of $B_RUNS; seconds)"
    local single
    single=$(awk '{ printf "%s ", $2 }' "$OUT/b-single.txt" | median)
    for m in single parallel sequential; do
        local t
        t=$(awk '{ printf "%s ", $2 }' "$OUT/b-$m.txt" | median)
        say "$(printf '   %-11s %8.2f s   vs single %5.2f   runs: %s' "$m" "$t" "$(calc "$t / $single")" "$(awk '{ printf "%s ", $2 }' "$OUT/b-$m.txt")")"
    done
}

# ------------------------------------------------------------------------------- C and D: the gateway under load

GATEWAY_STARTED=0
start_gateway() {
    ((GATEWAY_STARTED)) && return 0
    GW_DB="vidline_${TAG}_gw"
    GW_VHOST="${TAG}_gw"
    make_vhost "$GW_VHOST"
    DATABASES+=("$GW_DB")
    GW_PORT=$(free_port)
    log "C/D: starting one progress-gateway on :$GW_PORT (vhost $GW_VHOST, database $GW_DB, fd limit $(ulimit -n))"
    local dir assembly
    IFS=$'\t' read -r dir assembly < <(manifest --where name=progress-gateway project assembly)
    # Its own name (and pid file), so part A's pipeline never mistakes it for its own gateway.
    # The load generator is one client opening every stream: lift the per-tenant cap on open streams above it.
    RateLimits__StreamsPerTenant=1000000 start_service gateway-under-load "$dir" "$assembly" "$GW_PORT" "$GW_VHOST" "$GW_DB"
    wait_healthy gateway-under-load "$GW_PORT"
    GW_PID=$(cat "$STATE/pids/gateway-under-load.pid")
    GW_KEY=$(api_key "$GW_DB")
    GATEWAY_STARTED=1
}

# A and B time ffmpeg: nothing of C and D may still be running then.
stop_gateway() {
    ((GATEWAY_STARTED)) || return 0
    stop_pid "$STATE/pids/gateway-under-load.pid" gateway-under-load 10
    GATEWAY_STARTED=0
}

loadgen() { # MODE OUTPUT-NAME ARGS...
    local mode=$1 name=$2
    shift 2
    VIDLINE_API_KEY="$GW_KEY" "${LOADGEN[@]}" "$mode" --gateway "http://127.0.0.1:$GW_PORT" --gateway-pid "$GW_PID" --vhost "$GW_VHOST" --tenant bench \
        --amqp-port "$AMQP_PORT" "$@" >"$OUT/$name.json" 2> >(tee "$OUT/$name.log" >&2)
}

part_c() {
    start_gateway
    local size clients rate
    say ""
    say "C. gateway SSE latency (publish → client read), per-job streams, 10 clients per job, ${SSE_SECONDS} s each"
    for size in $SSE_SIZES; do
        clients=${size%%:*} rate=${size##*:}
        log "C: $clients SSE clients at $rate events/s (load $(cut -d' ' -f1 /proc/loadavg))"
        if loadgen sse "c-sse-$clients" --clients "$clients" --rate "$rate" --seconds "$SSE_SECONDS"; then
            say "   sse  $(jq -r '"\(.clients) clients (\(.connected) connected in \(.connect_seconds) s), \(.rate)/s: p50 \(.latency.p50_ms) ms  p99 \(.latency.p99_ms) ms  max \(.latency.max_ms) ms  delivered \(.delivered_ratio)  ended early \(.ended_early)  \(.kb_per_connection) KiB/connection  gateway CPU \(.gateway_cpu_cores) cores"' "$OUT/c-sse-$clients.json")"
        else
            say "   sse  $clients clients at $rate/s: FAILED (see $OUT/c-sse-$clients.log)"
        fi
    done
    log "C: baseline, $POLL_CLIENTS clients polling GET /jobs/{id} every second at $POLL_RATE events/s"
    if loadgen poll "c-poll-$POLL_CLIENTS" --clients "$POLL_CLIENTS" --rate "$POLL_RATE" --seconds "$SSE_SECONDS"; then
        say "   poll $(jq -r '"\(.clients) clients every \(.interval_seconds) s, \(.rate)/s: p50 \(.latency.p50_ms) ms  p99 \(.latency.p99_ms) ms  delivered \(.delivered_ratio)  \(.requests_per_second) req/s, mean \(.mean_request_ms) ms  gateway CPU \(.gateway_cpu_cores) cores"' "$OUT/c-poll-$POLL_CLIENTS.json")"
        local same="$OUT/c-sse-$POLL_CLIENTS.json"
        if [[ -f $same ]] && jq -e ".rate == $POLL_RATE" "$same" >/dev/null; then
            say "   ratio sse / poll at $POLL_CLIENTS clients: p50 $(calc "$(jq .latency.p50_ms "$same") / $(jq .latency.p50_ms "$OUT/c-poll-$POLL_CLIENTS.json")")  p99 $(calc "$(jq .latency.p99_ms "$same") / $(jq .latency.p99_ms "$OUT/c-poll-$POLL_CLIENTS.json")")"
        fi
    else
        say "   poll: FAILED (see $OUT/c-poll-$POLL_CLIENTS.log)"
    fi
}

part_d() {
    start_gateway
    log "D: $INGEST_COUNT ProgressReported as fast as possible"
    loadgen ingest d-ingest --count "$INGEST_COUNT" --postgres "$PG;Database=$GW_DB"
    log "D: baseline, single-row INSERTs"
    loadgen insert d-insert --count "$INGEST_COUNT" --seconds 60 --postgres "$PG;Database=$GW_DB"
    say ""
    say "D. gateway ingest of $INGEST_COUNT ProgressReported (goal ≥ 5,000/s, none lost)"
    say "   $(jq -r '"stored \(.stored) of \(.count) (lost \(.lost), distinct ids \(.distinct_message_ids)) in \(.seconds_until_all_stored) s = \(.stored_per_second)/s; publishing alone \(.publish_per_second)/s; gateway CPU \(.gateway_cpu_cores) cores"' "$OUT/d-ingest.json")"
    say "   $(jq -r '"baseline single-row INSERT + commit: \(.inserted) in \(.seconds) s = \(.per_second)/s"' "$OUT/d-insert.json")"
    say "   ratio gateway / baseline: $(calc "$(jq .stored_per_second "$OUT/d-ingest.json") / $(jq .per_second "$OUT/d-insert.json")")"
}

# ------------------------------------------------------------------------ E: 10,000 SSE streams through the edge

part_e() {
    local edge_port nginx_pid via args=()
    say ""
    say "E. $E_CLIENTS SSE streams (10 per job) at $E_RATE events/s for $E_SECONDS s: straight to the gateway, then through the edge"
    for via in direct edge; do
        # A fresh gateway for each, so neither run's memory includes the other's.
        stop_gateway
        start_gateway
        args=(--clients "$E_CLIENTS" --rate "$E_RATE" --seconds "$E_SECONDS")
        if [[ $via == edge ]]; then
            edge_port=$(free_port)
            # The bench's streams all come from 127.0.0.1: the per-address allowance is raised to let them all in.
            # No ingest-api runs; its upstream address is a free port nothing listens on.
            env VIDLINE_STATE="$STATE" VIDLINE_STORAGE="$STATE/storage" EDGE_PORT="$edge_port" GATEWAY_PORT="$GW_PORT" \
                INGEST_PORT="$(free_port)" EDGE_STREAMS_PER_IP="$E_CLIENTS" bash "$REPO_ROOT/scripts/infra.sh" edge-up >"$OUT/e-edge.log" 2>&1 ||
                { cat "$OUT/e-edge.log" >&2; die "the edge did not start"; }
            EDGE_UP=1
            nginx_pid=$(cat "$STATE/nginx/nginx.pid")
            say "   edge: $(grep -E '^worker_(processes|rlimit_nofile)|worker_connections' "$STATE/nginx/nginx.conf" | tr -s ' ' | tr '\n' ' ')"
            args+=(--streams "http://127.0.0.1:$edge_port" --edge-pid "$nginx_pid")
        fi
        log "E: $E_CLIENTS streams $via (load $(cut -d' ' -f1 /proc/loadavg))"
        if loadgen sse "e-sse-$via" "${args[@]}"; then
            say "   $(printf '%-6s' "$via") $(jq -r '"connected \(.connected) of \(.clients) in \(.connect_seconds) s, refused \(.connect_failed) \(.refused_by_status), ended early \(.ended_early); p50 \(.latency.p50_ms) ms  p99 \(.latency.p99_ms) ms  delivered \(.delivered_ratio); gateway RSS \(.gateway_rss_kb_connected / 1024 | floor) MiB (\(.kb_per_connection) KiB/stream)" + (if .edge_processes > 0 then "; nginx RSS \(.edge_rss_kb_connected / 1024 | floor) MiB in \(.edge_processes) processes (\(.edge_kb_per_connection) KiB/stream)" else "" end)' "$OUT/e-sse-$via.json")"
        else
            say "   $via: FAILED (see $OUT/e-sse-$via.log)"
        fi
    done
    # One address over its allowance: the edge's default per-address limit lets EDGE_STREAMS_PER_IP in, refuses the rest.
    env VIDLINE_STATE="$STATE" VIDLINE_STORAGE="$STATE/storage" EDGE_PORT="$edge_port" GATEWAY_PORT="$GW_PORT" \
        INGEST_PORT="$(free_port)" bash "$REPO_ROOT/scripts/infra.sh" edge-up >>"$OUT/e-edge.log" 2>&1
    log "E: $E_FLOOD_CLIENTS streams from one address with the default per-address limit"
    if loadgen sse e-sse-flood --clients "$E_FLOOD_CLIENTS" --rate "$E_RATE" --seconds 3 --streams "http://127.0.0.1:$edge_port"; then
        say "   flood  $(jq -r '"\(.clients) streams from one address, default limit: connected \(.connected), refused \(.connect_failed) \(.refused_by_status)"' "$OUT/e-sse-flood.json")"
    else
        say "   flood: FAILED (see $OUT/e-sse-flood.log)"
    fi
    VIDLINE_STATE="$STATE" bash "$REPO_ROOT/scripts/infra.sh" edge-down >/dev/null 2>&1 || true
    EDGE_UP=0
}

for part in $PARTS; do
    case $part in
        A) stop_gateway; part_a ;;
        B) stop_gateway; part_b ;;
        C) part_c ;;
        D) part_d ;;
        E) part_e ;;
        *) die "unknown part $part (expected A B C D E)" ;;
    esac
done
say ""
say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
