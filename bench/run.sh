#!/usr/bin/env bash
# Vidline benchmarks (`make bench`). Results: bench/results/<timestamp>/ and a summary on stdout (one line per
# measurement, with the command that reproduces it); docs/performance.md explains them. Everything runs against
# 127.0.0.1 in its own RabbitMQ vhosts, PostgreSQL databases, storage folder and ports, so a running `make run` is not
# disturbed; nothing this script starts outlives it. Only the services a part measures run during it.
#
#   pipeline   a clip through the whole pipeline (edge → ingest → transcoder → validator → packager) vs bench/bare.sh
#              (the same output by hand) vs bench/limit.sh (the same ladder to -f null): wall and CPU-seconds
#   resume     kill -9 of the transcoder when transcoding reaches RESUME_AT %, a new one started at once: strike →
#              completed vs the same span of the job undisturbed (the goal: ≤ 1.2x the work that was left)
#   sse        SSE streams through the edge (make run's nginx) vs straight to the gateway, latency from each event's
#              scheduled send time, at SSE_CLIENTS clients and SSE_RATE events/s, with an encode running beside it
#   connmem    memory per SSE connection: slope of the gateway's (and nginx's) Pss over client count, under traffic
#   poll       clients polling GET /jobs/{id} vs the same number on SSE: latency and gateway CPU per delivered update
#   ingest     ProgressReported → rows in PostgreSQL (events/s, none lost) vs COPY of the same rows vs consume-only
#   upload     upload MB/s through the edge (POST /process) vs a plain loopback copy of the same file (socat)
#   progress   ffmpeg's progress line → an SSE client through the edge; POST /process → the first progress event
#   jobs       jobs per hour for JOBS queued jobs with 2 transcoders vs 1
#   memory     Pss of every process (services, nginx, RabbitMQ, PostgreSQL) idle and while a job runs
#   coldstart  stopped services → the page answers through the edge (what `make run` does after its build)
#
# Statistics: every part runs its variants RUNS times, interleaved ABBA (run 1 A B, run 2 B A, ...; three variants
# A B C, C B A, ...), so a drift in machine load hits them alike. A ratio is taken within each run (variant / baseline
# of the same run) and reported as the median of those paired ratios with their min–max; absolute figures are medians.
#
# Knobs (environment; defaults in brackets):
#   PARTS [pipeline resume sse connmem poll ingest upload progress jobs memory coldstart]  RUNS [5]  SKIP_BUILD=1
#   CLIPS [10 60 300] (seconds)  KINDS [synthetic noisy]  CLIP_LOOP_SECONDS [10]
#   SSE_CLIENTS [1000 10000]  SSE_RATE [1000] (events/s)  SSE_SECONDS [20]  BESIDE [1] (an encode runs beside)
#   BESIDE_NICENESS [10] (the encode beside runs as niced as the transcoder's, Media:Niceness; 0 = not niced)
#   CONNMEM_CLIENTS [500 2000 5000 10000]  POLL_CLIENTS [1000]  INGEST_COUNT [50000]
#   UPLOAD_CLIP [60]  WARMUP [3] (unmeasured uploads, or jobs, before the runs of upload and progress)
#   PROGRESS_CLIP [10]  JOBS [6]  JOBS_CLIP [10]  MEMORY_CLIP [10]  RESUME_CLIP [60]  RESUME_AT [40] (%)
# Smoke run of everything (figures meaningless, every code path exercised): RUNS=1 CLIPS=10 KINDS=synthetic
#   SSE_CLIENTS=50 SSE_RATE=100 SSE_SECONDS=3 CONNMEM_CLIENTS="20 50" POLL_CLIENTS=50 INGEST_COUNT=2000 UPLOAD_CLIP=10
#   JOBS=2 RESUME_CLIP=10 bash bench/run.sh
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../scripts/lib.sh
source "$BENCH_DIR/../scripts/lib.sh"

ALL_PARTS="pipeline resume sse connmem poll ingest upload progress jobs memory coldstart"
PARTS=${PARTS:-$ALL_PARTS}
RUNS=${RUNS:-5}
CLIPS=${CLIPS:-10 60 300}
KINDS=${KINDS:-synthetic noisy}
CLIP_LOOP_SECONDS=${CLIP_LOOP_SECONDS:-10}
SSE_CLIENTS=${SSE_CLIENTS:-1000 10000}
SSE_RATE=${SSE_RATE:-1000}
SSE_SECONDS=${SSE_SECONDS:-20}
BESIDE=${BESIDE:-1}
BESIDE_NICENESS=${BESIDE_NICENESS:-10}
CONNMEM_CLIENTS=${CONNMEM_CLIENTS:-500 2000 5000 10000}
POLL_CLIENTS=${POLL_CLIENTS:-1000}
INGEST_COUNT=${INGEST_COUNT:-50000}
UPLOAD_CLIP=${UPLOAD_CLIP:-60}
WARMUP=${WARMUP:-3}
PROGRESS_CLIP=${PROGRESS_CLIP:-10}
JOBS=${JOBS:-6}
JOBS_CLIP=${JOBS_CLIP:-10}
MEMORY_CLIP=${MEMORY_CLIP:-10}
RESUME_CLIP=${RESUME_CLIP:-60}
RESUME_AT=${RESUME_AT:-40}
CONFIGURATION=Release
for part in $PARTS; do [[ " $ALL_PARTS " == *" $part "* ]] || die "unknown part $part (expected some of: $ALL_PARTS)"; done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS=$RUNS: expected a positive number"
[[ $WARMUP =~ ^[1-9][0-9]*$ ]] || die "WARMUP=$WARMUP: expected a positive number (the upload part reports the first as cold)"
[[ $RESUME_AT =~ ^[0-9]+([.][0-9]+)?$ ]] && awk -v p="$RESUME_AT" 'BEGIN { exit !(p > 0 && p < 100) }' ||
    die "RESUME_AT=$RESUME_AT: expected a percent between 0 and 100"

RUN_ID=$(date +%Y%m%d-%H%M%S)
OUT="$BENCH_DIR/results/$RUN_ID"
STATE="$OUT/state" # storage, logs, pids, nginx of this run
CLIP_CACHE="$BENCH_DIR/results/clips" # generated clips, reused by later runs (they are inputs, not results)
mkdir -p "$OUT/work" "$STATE/logs" "$STATE/pids" "$CLIP_CACHE"
ln -sfn "$RUN_ID" "$BENCH_DIR/results/latest"
SUMMARY="$OUT/summary.txt"
TAG="bench_${RUN_ID//-/_}"
PG="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$PG_PASSWORD"
CLK_TCK=$(getconf CLK_TCK)

say() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $* }"; }
load() { cut -d' ' -f1 /proc/loadavg; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
psql_db() { PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtAX -d "$1" "${@:2}"; }
# api_key DATABASE: a new API key of tenant "bench" in that database (the services have migrated it), by scripts/keys.sh.
api_key() { VIDLINE_STATE="$STATE" PG_DATABASE="$1" bash "$REPO_ROOT/scripts/keys.sh" create bench 2>/dev/null | tail -n1; }
rabbit_api() { curl -fsS -u guest:guest -H 'content-type: application/json' "$@"; }

# Statistics (abba, record, paired, median, range, slopes): bench/stats.sh, tested by bench/stats-test.sh.
# shellcheck source=stats.sh
source "$BENCH_DIR/stats.sh"

# summary PART TEXT KNOBS: the part's one summary line, with the command that reproduces it.
summary() {
    say "$1: $2"
    say "    reproduce: PARTS=$1 RUNS=$RUNS $3 bash bench/run.sh   (n=$RUNS, results $OUT/$1.tsv)"
}

# cpu_of PID...: CPU-seconds (user + system) the processes have used, their reaped children (ffmpeg) included.
cpu_of() {
    local pid total=0
    for pid in "$@"; do
        [[ -r /proc/$pid/stat ]] || continue
        total=$(sed 's/.*) //' "/proc/$pid/stat" | awk -v t="$total" -v hz="$CLK_TCK" '{ printf "%.2f", t + ($12 + $13 + $14 + $15) / hz }')
    done
    echo "$total"
}

# timed FILE COMMAND...: runs COMMAND under /usr/bin/time; FILE gets "wall user system" (children included).
timed() {
    local file=$1
    shift
    /usr/bin/time -f '%e %U %S' -o "$file" "$@"
}

# pss_of PID...: summed proportional set size in KiB (shared pages divided among the processes that map them).
pss_of() {
    local pid total=0 kb
    for pid in "$@"; do
        kb=$(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null) || kb=0
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}

# tree PID: the process and all its descendants.
tree() {
    local pid=$1 child
    echo "$pid"
    for child in $(cat "/proc/$pid/task/"*/children 2>/dev/null); do tree "$child"; done
}

# ---------------------------------------------------------------------------------------- isolation and cleanup

VHOSTS=() DATABASES=() EDGE_UP=0 BESIDE_PID=
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
        export ASPNETCORE_ENVIRONMENT=Production DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 Service__Node="$name"
        # The secrets of this run's state folder, which its edge checks output links with too.
        [[ $dir != services/progress-gateway ]] || VIDLINE_STATE="$STATE" gateway_secrets
        # The progress part runs the transcoders' ffmpeg through a shim that notes when each progress line left it.
        [[ $name != transcoder* || -z ${TRANSCODER_FFMPEG:-} ]] || export Media__FfmpegPath="$TRANSCODER_FFMPEG"
        exec dotnet "$dll" --urls "http://127.0.0.1:$port" </dev/null >>"$STATE/logs/$name.log" 2>&1
    ) &
    echo $! >"$STATE/pids/$name.pid"
}

wait_healthy() {
    local name=$1 port=$2 deadline=$((SECONDS + 90))
    until curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$port/health"; do
        pid_alive "$STATE/pids/$name.pid" || { tail -n 30 "$STATE/logs/$name.log" >&2; die "$name exited during startup"; }
        ((SECONDS < deadline)) || die "$name not healthy after 90 s"
        sleep 0.2
    done
}

stop_services() {
    local f
    for f in "$STATE"/pids/*.pid; do [[ -e $f ]] && stop_pid "$f" "$(basename "$f" .pid)" 10; done
    return 0
}

# edge_up PORT UPSTREAM-ENV...: make run's nginx edge (scripts/infra.sh edge-up) on PORT, in this run's state folder.
edge_up() {
    local port=$1
    shift
    env VIDLINE_STATE="$STATE" VIDLINE_STORAGE="$STATE/storage" EDGE_PORT="$port" "$@" \
        bash "$REPO_ROOT/scripts/infra.sh" edge-up >>"$OUT/edge.log" 2>&1 || { cat "$OUT/edge.log" >&2; die "the edge did not start"; }
    EDGE_UP=1
}
edge_down() {
    VIDLINE_STATE="$STATE" bash "$REPO_ROOT/scripts/infra.sh" edge-down >/dev/null 2>&1 || true
    EDGE_UP=0
}
edge_pids() { [[ -s $STATE/nginx/nginx.pid ]] && tree "$(cat "$STATE/nginx/nginx.pid")"; }

# beside_up / beside_down: the background encode of the SSE parts (bench/limit.sh --loop on the 10 s synthetic clip),
# at BESIDE_NICENESS: the transcoder's own encodes run at Media:Niceness (10 unless configured).
beside_up() {
    ((BESIDE)) || return 0
    local clip
    clip=$(clip_path synthetic 10)
    setsid nice -n "$BESIDE_NICENESS" bash "$BENCH_DIR/limit.sh" "$clip" --loop >/dev/null 2>"$OUT/beside.log" &
    BESIDE_PID=$!
}
beside_down() {
    [[ -n $BESIDE_PID ]] || return 0
    kill -TERM -- "-$BESIDE_PID" 2>/dev/null || true
    wait "$BESIDE_PID" 2>/dev/null || true
    BESIDE_PID=
}

cleanup() {
    trap - EXIT INT TERM
    beside_down
    stop_services
    ((EDGE_UP)) && edge_down
    local v d
    for v in "${VHOSTS[@]}"; do rabbit_api -X DELETE "http://127.0.0.1:$RABBIT_UI_PORT/api/vhosts/$v" >/dev/null 2>&1 || true; done
    for d in "${DATABASES[@]}"; do psql_db postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true; done
    rm -rf "$STATE/storage" "$OUT/work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------------- clips

# clip_path KIND SECONDS: the generated clip, made once and kept in bench/results/clips/.
#   synthetic  testsrc2 1920x1080p25 and a 440 Hz tone: clean, moving graphics
#   noisy      the same picture under strong temporal grain (noise=alls=10:allf=t+u) and pink noise mixed into the
#              tone: camera-like, expensive to encode
# CLIP_LOOP_SECONDS of it are encoded (libx264 veryfast, CRF 18 capped at 25 Mbit/s, what a camera writes) and looped
# by stream copy up to SECONDS. The cache is keyed by kind and length only: delete it after changing this.
clip_path() {
    local kind=$1 seconds=$2 clip seg video audio
    clip="$CLIP_CACHE/$kind-${seconds}s.mp4"
    [[ -s $clip ]] && { echo "$clip"; return 0; }
    seg=$((seconds < CLIP_LOOP_SECONDS ? seconds : CLIP_LOOP_SECONDS))
    case $kind in
        synthetic) video="testsrc2=size=1920x1080:rate=25" audio="sine=frequency=440:sample_rate=48000" ;;
        noisy) video="testsrc2=size=1920x1080:rate=25,noise=alls=10:allf=t+u"
            audio="sine=frequency=440:sample_rate=48000[s];anoisesrc=color=pink:amplitude=0.3:sample_rate=48000[n];[s][n]amix" ;;
        *) die "unknown clip kind $kind (expected synthetic or noisy)" ;;
    esac
    log "making the $seconds s $kind clip (once; cached in $CLIP_CACHE)"
    ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "$video" -filter_complex "$audio" -t "$seg" \
        -c:v libx264 -preset veryfast -crf 18 -maxrate 25M -bufsize 50M -g 50 -pix_fmt yuv420p -c:a aac -b:a 128k "$clip.segment.mp4" >&2
    ffmpeg -nostdin -hide_banner -loglevel error -y -stream_loop $(((seconds + seg - 1) / seg - 1)) -i "$clip.segment.mp4" \
        -c copy -t "$seconds" -movflags +faststart "$clip.new.mp4" >&2
    rm -f "$clip.segment.mp4"
    mv "$clip.new.mp4" "$clip"
    echo "$clip"
}

# ------------------------------------------------------------------------------------------------ the stack

declare -A STACK_PORT=()
# stack_use NAME: the vhost and database of the next stack_up. A part whose jobs must not reach a later part's
# services (upload leaves its jobs queued) uses its own.
stack_use() { STACK_VHOST="${TAG}_$1" STACK_DB="vidline_${TAG}_$1" STACK_MADE=0 AUTH=; }
stack_use pipe

# stack_up [TRANSCODERS] [SERVICE...]: the services (default: all of services/services.tsv; with TRANSCODERS > 1 more
# transcoder nodes, as make run TRANSCODERS=n) phase by phase, then the edge in front. Sets EDGE and AUTH.
stack_up() {
    local transcoders=${1:-1}
    shift || true
    local only=" $* " name dir assembly env phase i
    if ((!STACK_MADE)); then
        make_vhost "$STACK_VHOST"
        DATABASES+=("$STACK_DB")
        local ports=()
        while IFS=$'\t' read -r name env; do
            STACK_PORT[$name]=$(free_port)
            ports+=("${env}_PORT=${STACK_PORT[$name]}")
        done < <(manifest name env)
        EDGE=$(free_port)
        STACK_EDGE_ENV=("${ports[@]}")
        STACK_MADE=1
    fi
    for phase in $(phases); do
        while IFS=$'\t' read -r name dir assembly; do
            [[ $only == "  " || $only == *" $name "* ]] || continue
            start_service "$name" "$dir" "$assembly" "${STACK_PORT[$name]}" "$STACK_VHOST" "$STACK_DB"
            if [[ $name == transcoder ]]; then
                for ((i = 2; i <= transcoders; i++)); do
                    start_service "transcoder-$i" "$dir" "$assembly" "$(free_port)" "$STACK_VHOST" "$STACK_DB"
                done
            fi
        done < <(manifest --where "phase=$phase" name project assembly)
        for name in $(manifest --where "phase=$phase" name); do
            [[ $only == "  " || $only == *" $name "* ]] && wait_healthy "$name" "${STACK_PORT[$name]}"
        done
    done
    [[ -n ${AUTH:-} ]] || AUTH="Authorization: Bearer $(api_key "$STACK_DB")"
    edge_up "$EDGE" "${STACK_EDGE_ENV[@]}"
}
stack_down() { stop_services; edge_down; }
stack_pids() { local f; for f in "$STATE"/pids/*.pid; do [[ -e $f ]] && cat "$f"; done; edge_pids; }

# post_video CLIP [CURL-OPTION...]: POST /process of the clip through the edge.
post_video() {
    local clip=$1
    shift
    curl -fsS -H "$AUTH" -F "video=@$clip;type=video/mp4" -F key=bench.mp4 "$@" "http://127.0.0.1:$EDGE/process"
}

# submit CLIP: the new job's id.
submit() { post_video "$1" | jq -r .job_id; }

# upload_once CLIP: seconds from the start of the upload to the 202.
upload_once() { post_video "$1" -o /dev/null -w '%{time_total}'; }

# wait_done JOB: until the job's SSE stream (through the edge) says done; fails unless it completed.
wait_done() {
    curl -fsSN -H "$AUTH" --max-time 3600 "http://127.0.0.1:$EDGE/jobs/$1/stream" | grep -q -m1 '^event: done' ||
        die "job $1: no done event (logs: $STATE/logs)"
    [[ $(curl -fsS -H "$AUTH" "http://127.0.0.1:$EDGE/jobs/$1" | jq -r .status) == completed ]] ||
        die "job $1 did not complete (logs: $STATE/logs)"
}

# ------------------------------------------------------------------------------------------------- pipeline

part_pipeline() {
    stack_up
    local kind seconds clip r v job t0 cpu0 wall
    for seconds in $CLIPS; do
        for kind in $KINDS; do
            clip=$(clip_path "$kind" "$seconds")
            local key="$kind-${seconds}s"
            for ((r = 1; r <= RUNS; r++)); do
                for v in $(abba "$r" pipeline bare limit); do
                    log "pipeline $key: run $r/$RUNS $v (load $(load))"
                    case $v in
                        pipeline)
                            # Wall: start of the upload → the job's stream says done. CPU: every service and nginx,
                            # with their ffmpeg children.
                            cpu0=$(cpu_of $(stack_pids))
                            t0=$(now)
                            job=$(submit "$clip")
                            wait_done "$job"
                            wall=$(calc "$(now) - $t0")
                            record "pipeline-$key" "$r" pipeline wall "$wall"
                            record "pipeline-$key" "$r" pipeline cpu "$(calc "$(cpu_of $(stack_pids)) - $cpu0")" ;;
                        bare | limit)
                            timed "$OUT/work/time" bash "$BENCH_DIR/$v.sh" "$clip" "$OUT/work/bare" >"$OUT/work/$v.out"
                            read -r wall user sys <"$OUT/work/time"
                            record "pipeline-$key" "$r" "$v" wall "$wall"
                            record "pipeline-$key" "$r" "$v" cpu "$(calc "$user + $sys")" ;;
                    esac
                done
            done
            local p="pipeline-$key"
            summary pipeline "$key clip: pipeline/bare wall $(paired "$p" wall pipeline bare), CPU $(paired "$p" cpu pipeline bare); pipeline/limit wall $(paired "$p" wall pipeline limit), CPU $(paired "$p" cpu pipeline limit); bare/limit wall $(paired "$p" wall bare limit); medians wall s pipeline $(median "$p" wall pipeline) bare $(median "$p" wall bare) limit $(median "$p" wall limit), CPU-s $(median "$p" cpu pipeline) / $(median "$p" cpu bare) / $(median "$p" cpu limit)" \
                "CLIPS=$seconds KINDS=$kind"
        done
    done
    stack_down
}

# resume: kill -9 of the transcoder mid-encode, then a new transcoder process on the same configuration, vs the same job
# left alone. Both variants follow the job's stream through the edge; the mark is the moment the transcoding stage
# first reports >= RESUME_AT %. Undisturbed: mark → done is the work that was left. Struck: at the mark the transcoder
# (and by pdeathsig its ffmpeg) is killed and started again; mark → done is strike → completed, the restarted
# process's own start-up included, as a user would wait for it. CPU-seconds of the stack over the same window.
resume_tree_pids() { local p; for p in "$@"; do tree "$p"; done | sort -u; }
# resume_count VARIANT METRIC: in how many runs the metric was above 0. Counted, not averaged: a struck run that started
# again from zero, or whose kill found no ffmpeg at work, shows.
resume_count() { awk -F'\t' -v v="$1" -v m="$2" '$2 == v && $3 == m && $4 > 0 { n++ } END { print n + 0 }' "$OUT/resume.tsv"; }
resume_once() { # VARIANT RUN CLIP
    local v=$1 r=$2 clip=$3 job t_submit follower mark_file events t_mark percent t_done cpu0 tpid ffmpeg=() p i
    local dir assembly others t_event
    mark_file="$OUT/work/resume-$r-$v.mark" events="$OUT/resume-$r-$v.events"
    t_submit=$(now)
    job=$(submit "$clip")
    python3 -u "$BENCH_DIR/stream-mark.py" "http://127.0.0.1:$EDGE/jobs/$job/stream" "$AUTH" transcoding "$RESUME_AT" \
        "$mark_file" >"$events" &
    follower=$!
    until [[ -s $mark_file ]]; do
        kill -0 "$follower" 2>/dev/null || die "job $job: its stream ended before transcoding reached $RESUME_AT % (logs: $STATE/logs)"
        sleep 0.05
    done
    # The span starts here in both variants (the strike comes first; the CPU samples, which take a moment, after it).
    t_mark=$(now)
    tpid=$(cat "$STATE/pids/transcoder.pid")
    if [[ $v == undisturbed ]]; then
        cpu0=$(cpu_of $(resume_tree_pids $(stack_pids)))
    else
        for p in $(cat "/proc/$tpid/task/"*/children 2>/dev/null); do [[ $(cat "/proc/$p/comm" 2>/dev/null) != ffmpeg ]] || ffmpeg+=("$p"); done
        kill -KILL "$tpid"
        # The killed process's CPU died with it: the span counts the other processes from here and the new transcoder
        # from its start.
        others=$(stack_pids | grep -vx "$tpid")
        cpu0=$(cpu_of $(resume_tree_pids $others))
        wait "$tpid" 2>/dev/null || true
        # Its ffmpeg dies by pdeathsig; one still alive after 5 s is a finding, and is killed so it costs nothing more.
        local outlived=0
        for p in "${ffmpeg[@]}"; do
            for ((i = 0; i < 50; i++)); do pid_running "$p" || break; sleep 0.1; done
            if pid_running "$p"; then outlived=$((outlived + 1)); kill -KILL "$p" 2>/dev/null || true; fi
        done
        ((outlived == 0)) || log "resume run $r: $outlived process(es) of the killed transcoder outlived it"
        IFS=$'\t' read -r dir assembly < <(manifest --where name=transcoder project assembly)
        start_service transcoder "$dir" "$assembly" "${STACK_PORT[transcoder]}" "$STACK_VHOST" "$STACK_DB"
        wait_healthy transcoder "${STACK_PORT[transcoder]}"
        record resume "$r" "$v" restart_seconds "$(calc "$(now) - $t_mark")"
        record resume "$r" "$v" ffmpeg_at_strike "${#ffmpeg[@]}"
        record resume "$r" "$v" outlived "$outlived"
    fi
    wait "$follower" || die "job $job: its stream ended without a done event (logs: $STATE/logs)"
    t_done=$(awk '$2 == "event:" && $3 == "done" { print $1; exit }' "$events")
    [[ $(curl -fsS -H "$AUTH" "http://127.0.0.1:$EDGE/jobs/$job" | jq -r .status) == completed ]] ||
        die "job $job did not complete (logs: $STATE/logs)"
    record resume "$r" "$v" remaining_wall "$(calc "$t_done - $t_mark")"
    record resume "$r" "$v" remaining_cpu "$(calc "$(cpu_of $(resume_tree_pids $(stack_pids))) - $cpu0")"
    record resume "$r" "$v" job_wall "$(calc "$t_done - $t_submit")"
    read -r t_event percent <"$mark_file"
    record resume "$r" "$v" mark_percent "$percent"
    record resume "$r" "$v" event_to_mark "$(calc "$t_mark - $t_event")"
    # "resuming after segment n ..." is the transcoder's progress message when it goes on from earlier segments; 0: it
    # started again from zero (or was not struck).
    record resume "$r" "$v" resumed_after "$(awk 'match($0, /resuming after segment [0-9]+/) { print substr($0, RSTART + 23, RLENGTH - 23); f = 1; exit }
        END { if (!f) print 0 }' "$events")"
}
part_resume() {
    local clip r v
    clip=$(clip_path synthetic "$RESUME_CLIP")
    stack_use resume
    stack_up
    for ((r = 1; r <= RUNS; r++)); do
        for v in $(abba "$r" undisturbed struck); do
            log "resume ${RESUME_CLIP}s at $RESUME_AT %: run $r/$RUNS $v (load $(load))"
            resume_once "$v" "$r" "$clip"
        done
    done
    stack_down
    stack_use pipe
    [[ $(resume_count undisturbed resumed_after) == 0 ]] || say "WARNING: resume: an undisturbed run's transcode said it was resuming"
    summary resume "$RESUME_CLIP s synthetic clip, kill -9 of the transcoder when transcoding first reports >= $RESUME_AT % (medians: reported $(median resume mark_percent struck) % struck, $(median resume mark_percent undisturbed) % undisturbed; the strike $(median resume event_to_mark struck) s after that event arrived), a new process started at once: strike → completed / the same span undisturbed: wall $(paired resume remaining_wall struck undisturbed), CPU $(paired resume remaining_cpu struck undisturbed); medians s struck $(median resume remaining_wall struck) undisturbed $(median resume remaining_wall undisturbed) (whole job undisturbed $(median resume job_wall undisturbed)), CPU-s $(median resume remaining_cpu struck) / $(median resume remaining_cpu undisturbed); kill → new transcoder healthy $(median resume restart_seconds struck) s; resumed in $(resume_count struck resumed_after) of $RUNS struck runs (after segment $(median resume resumed_after struck), median; a run from zero says 0), an ffmpeg at work at the strike in $(resume_count struck ffmpeg_at_strike) of $RUNS, one outliving the kill in $(resume_count struck outlived)" \
        "RESUME_CLIP=$RESUME_CLIP RESUME_AT=$RESUME_AT"
}

# --------------------------------------------------------------------------------------- the gateway under load

# gateway_up: a fresh progress-gateway alone (the other services are not under test), on GW_PORT; sets GW_PID, GW_KEY.
# The load generator is one client opening every stream: the per-tenant cap on open streams is lifted above it.
GW_VHOST="${TAG}_gw" GW_DB="vidline_${TAG}_gw" GW_MADE=0
gateway_up() {
    if ((!GW_MADE)); then
        make_vhost "$GW_VHOST"
        DATABASES+=("$GW_DB")
        GW_PORT=$(free_port)
        GW_MADE=1
    fi
    local dir assembly
    IFS=$'\t' read -r dir assembly < <(manifest --where name=progress-gateway project assembly)
    RateLimits__StreamsPerTenant=1000000 start_service gateway-under-load "$dir" "$assembly" "$GW_PORT" "$GW_VHOST" "$GW_DB"
    wait_healthy gateway-under-load "$GW_PORT"
    GW_PID=$(cat "$STATE/pids/gateway-under-load.pid")
    [[ -n ${GW_KEY:-} ]] || GW_KEY=$(api_key "$GW_DB")
}
gateway_down() { stop_pid "$STATE/pids/gateway-under-load.pid" gateway-under-load 10; }

# gateway_edge_up MAX-STREAMS: the edge in front of the gateway alone; every stream comes from 127.0.0.1, so the
# per-address allowance is raised to let them all in. No ingest-api runs: its upstream is a port nothing listens on.
gateway_edge_up() {
    GW_EDGE=$(free_port)
    edge_up "$GW_EDGE" GATEWAY_PORT="$GW_PORT" INGEST_PORT="$(free_port)" EDGE_STREAMS_PER_IP="$1"
}

LOADGEN=()
loadgen() { # MODE OUTPUT-FILE ARGS...
    local mode=$1 file=$2
    shift 2
    VIDLINE_API_KEY="$GW_KEY" "${LOADGEN[@]}" "$mode" --gateway "http://127.0.0.1:$GW_PORT" --gateway-pid "$GW_PID" \
        --vhost "$GW_VHOST" --tenant bench --amqp-port "$AMQP_PORT" "$@" >"$file" 2> >(tee "${file%.json}.log" >&2)
}

# record_sse PART RUN VARIANT JSON: latency, delivery and CPU per update of one sse or poll run.
record_sse() {
    local part=$1 r=$2 v=$3 json=$4 m
    for m in p50_ms p99_ms max_ms; do record "$part" "$r" "$v" "$m" "$(jq ".latency.$m" "$json")"; done
    for m in delivered_ratio gateway_cpu_seconds gateway_cpu_ms_per_update updates_delivered; do
        record "$part" "$r" "$v" "$m" "$(jq ".$m" "$json")"
    done
    [[ $v == poll ]] || record "$part" "$r" "$v" connected "$(jq .connected "$json")"
}

part_sse() {
    local clients r v json max=0 args
    for clients in $SSE_CLIENTS; do ((clients > max)) && max=$clients; done
    gateway_up
    gateway_edge_up "$max"
    beside_up
    for clients in $SSE_CLIENTS; do
        for ((r = 1; r <= RUNS; r++)); do
            for v in $(abba "$r" direct edge); do
                log "sse $clients clients: run $r/$RUNS $v (load $(load))"
                args=(--clients "$clients" --rate "$SSE_RATE" --seconds "$SSE_SECONDS")
                [[ $v == direct ]] || args+=(--streams "http://127.0.0.1:$GW_EDGE")
                json="$OUT/work/sse-$clients-$r-$v.json"
                loadgen sse "$json" "${args[@]}" || die "sse run failed (see ${json%.json}.log)"
                cp "$json" "$OUT/"
                record_sse "sse-$clients" "$r" "$v" "$json"
            done
        done
        local p="sse-$clients"
        summary sse "$clients clients, $SSE_RATE events/s, encode beside: $BESIDE (nice $BESIDE_NICENESS); edge/direct p99 $(paired "$p" p99_ms edge direct), p50 $(paired "$p" p50_ms edge direct); p50/p99/max ms edge $(median "$p" p50_ms edge)/$(median "$p" p99_ms edge)/$(median "$p" max_ms edge), direct $(median "$p" p50_ms direct)/$(median "$p" p99_ms direct)/$(median "$p" max_ms direct); connected edge $(median "$p" connected edge), delivered edge $(median "$p" delivered_ratio edge) direct $(median "$p" delivered_ratio direct); gateway CPU ms/update edge $(median "$p" gateway_cpu_ms_per_update edge) direct $(median "$p" gateway_cpu_ms_per_update direct)" \
            "SSE_CLIENTS=$clients SSE_RATE=$SSE_RATE SSE_SECONDS=$SSE_SECONDS BESIDE=$BESIDE BESIDE_NICENESS=$BESIDE_NICENESS"
    done
    beside_down
    edge_down
    gateway_down
}

# connmem: per run, every client count (ascending in odd runs, descending in even ones) through the edge, each on a
# fresh gateway and edge so neither carries the previous count's memory; Pss sampled halfway through the traffic.
part_connmem() {
    local r n json max=0
    for n in $CONNMEM_CLIENTS; do ((n > max)) && max=$n; done
    beside_up
    for ((r = 1; r <= RUNS; r++)); do
        for n in $(abba "$r" $CONNMEM_CLIENTS); do
            log "connmem $n clients: run $r/$RUNS (load $(load))"
            gateway_up
            gateway_edge_up "$max"
            json="$OUT/work/connmem-$n-$r.json"
            loadgen sse "$json" --clients "$n" --rate "$SSE_RATE" --seconds "$SSE_SECONDS" --streams "http://127.0.0.1:$GW_EDGE" \
                --edge-pid "$(cat "$STATE/nginx/nginx.pid")" || die "connmem run failed (see ${json%.json}.log)"
            cp "$json" "$OUT/"
            printf '%s\t%s\t%s\t%s\n' "$r" "$(jq .connected "$json")" "$(jq .gateway_pss_kb_traffic "$json")" \
                "$(jq .edge_pss_kb_traffic "$json")" >>"$OUT/connmem-points.tsv"
            edge_down
            gateway_down
        done
    done
    beside_down
    # Per run, the least-squares slope of Pss (KiB) over connected clients; then the median and range over runs.
    local r gslope eslope
    while read -r r gslope eslope; do
        record connmem "$r" gateway kib_per_connection "$gslope"
        record connmem "$r" nginx kib_per_connection "$eslope"
    done < <(slopes "$OUT/connmem-points.tsv")
    summary connmem "Pss per SSE connection under $SSE_RATE events/s (slope over $CONNMEM_CLIENTS clients): gateway $(median connmem kib_per_connection gateway) KiB, nginx $(median connmem kib_per_connection nginx) KiB (median of per-run slopes; range gateway $(range connmem kib_per_connection gateway), nginx $(range connmem kib_per_connection nginx))" \
        "CONNMEM_CLIENTS=\"$CONNMEM_CLIENTS\" SSE_RATE=$SSE_RATE SSE_SECONDS=$SSE_SECONDS BESIDE=$BESIDE BESIDE_NICENESS=$BESIDE_NICENESS"
}

part_poll() {
    local r v json
    gateway_up
    beside_up
    for ((r = 1; r <= RUNS; r++)); do
        for v in $(abba "$r" sse poll); do
            log "poll $POLL_CLIENTS clients: run $r/$RUNS $v (load $(load))"
            json="$OUT/work/poll-$POLL_CLIENTS-$r-$v.json"
            loadgen "$v" "$json" --clients "$POLL_CLIENTS" --rate "$SSE_RATE" --seconds "$SSE_SECONDS" || die "$v run failed (see ${json%.json}.log)"
            cp "$json" "$OUT/"
            record_sse poll "$r" "$v" "$json"
        done
    done
    beside_down
    gateway_down
    summary poll "$POLL_CLIENTS clients, $SSE_RATE events/s, direct: poll/sse gateway CPU per delivered update $(paired poll gateway_cpu_ms_per_update poll sse), p50 $(paired poll p50_ms poll sse), p99 $(paired poll p99_ms poll sse); CPU ms/update poll $(median poll gateway_cpu_ms_per_update poll) sse $(median poll gateway_cpu_ms_per_update sse); p50/p99 ms poll $(median poll p50_ms poll)/$(median poll p99_ms poll) sse $(median poll p50_ms sse)/$(median poll p99_ms sse); delivered poll $(median poll delivered_ratio poll) sse $(median poll delivered_ratio sse)" \
        "POLL_CLIENTS=$POLL_CLIENTS SSE_RATE=$SSE_RATE SSE_SECONDS=$SSE_SECONDS BESIDE=$BESIDE BESIDE_NICENESS=$BESIDE_NICENESS"
}

# ingest: gateway (publish → stored), copy (the same rows by one COPY: the database's limit) and consume (publish →
# acknowledged by a consumer that stores nothing, in a vhost of its own: the broker's rate), ABC / CBA.
part_ingest() {
    local r v json consume_vhost="${TAG}_consume"
    make_vhost "$consume_vhost"
    gateway_up
    log "ingest: a warm-up run (not counted; its rows are what copy writes)"
    loadgen ingest "$OUT/work/ingest-warmup.json" --count "$INGEST_COUNT" --postgres "$PG;Database=$GW_DB" || die "ingest warm-up failed"
    for ((r = 1; r <= RUNS; r++)); do
        for v in $(abba "$r" gateway copy consume); do
            log "ingest $INGEST_COUNT: run $r/$RUNS $v (load $(load))"
            json="$OUT/work/ingest-$r-$v.json"
            case $v in
                gateway)
                    loadgen ingest "$json" --count "$INGEST_COUNT" --postgres "$PG;Database=$GW_DB" || die "ingest failed"
                    record ingest "$r" "$v" per_second "$(jq .stored_per_second "$json")"
                    record ingest "$r" "$v" lost "$(jq .lost "$json")"
                    record ingest "$r" "$v" gateway_cpu_seconds "$(jq .gateway_cpu_seconds "$json")" ;;
                copy)
                    loadgen copy "$json" --count "$INGEST_COUNT" --postgres "$PG;Database=$GW_DB" || die "copy failed"
                    record ingest "$r" "$v" per_second "$(jq .per_second "$json")" ;;
                consume)
                    loadgen consume "$json" --count "$INGEST_COUNT" --vhost "$consume_vhost" || die "consume failed"
                    record ingest "$r" "$v" per_second "$(jq .consumed_per_second "$json")"
                    record ingest "$r" "$v" lost "$((INGEST_COUNT - $(jq .consumed "$json")))" ;;
            esac
            cp "$json" "$OUT/"
        done
    done
    gateway_down
    summary ingest "$INGEST_COUNT events: gateway $(median ingest per_second gateway)/s, lost $(awk -F'\t' '$2 == "gateway" && $3 == "lost" { s += $4 } END { print s + 0 }' "$OUT/ingest.tsv") in all runs; gateway/consume-only $(paired ingest per_second gateway consume) (consume-only $(median ingest per_second consume)/s); gateway/COPY $(paired ingest per_second gateway copy) (COPY $(median ingest per_second copy) rows/s); gateway CPU-s per run $(median ingest gateway_cpu_seconds gateway)" \
        "INGEST_COUNT=$INGEST_COUNT"
}

# --------------------------------------------------------------------------------- the stack as a user meets it

# upload: the clip POSTed through the edge to ingest-api (only ingest-api and the gateway run: the jobs wait in the
# queue unprocessed), vs a plain loopback copy of the same file: socat sends it over a 127.0.0.1 TCP connection to a
# socat that writes it to a file beside the stack's storage (same disk), timed until the file is complete.
part_upload() {
    local clip r v out port size cpu0 copy receiver t0 cold
    clip=$(clip_path noisy "$UPLOAD_CLIP")
    size=$(stat -c %s "$clip")
    copy="$STATE/upload-copy.bin"
    stack_use upload
    stack_up 1 ingest-api progress-gateway
    # Services that have just started spend their first uploads compiling (in a profile of the second and third upload
    # after the start, the JIT took 30% of ingest-api's CPU and 66% of the gateway's). The runs measure the uploads after
    # WARMUP unmeasured ones and a pause for the background compiler; the first upload is reported on its own (cold).
    cold=$(upload_once "$clip")
    for ((r = 2; r <= WARMUP; r++)); do upload_once "$clip" >/dev/null; done
    sleep 3
    for ((r = 1; r <= RUNS; r++)); do
        for v in $(abba "$r" edge copy); do
            log "upload $((size / 1048576)) MiB: run $r/$RUNS $v (load $(load))"
            if [[ $v == edge ]]; then
                cpu0=$(cpu_of $(stack_pids))
                out=$(upload_once "$clip")
                record upload "$r" "$v" receiver_cpu "$(calc "$(cpu_of $(stack_pids)) - $cpu0")"
            else
                rm -f "$copy"
                port=$(free_port)
                /usr/bin/time -f '%U %S' -o "$STATE/upload-copy.time" socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" "CREATE:$copy" &
                receiver=$!
                until ss -Htln "sport = :$port" | grep -q .; do
                    kill -0 "$receiver" 2>/dev/null || die "upload: the loopback copy's receiver could not listen on $port"
                    sleep 0.02
                done
                t0=$(now)
                socat -u "OPEN:$clip,rdonly" "TCP:127.0.0.1:$port"
                wait "$receiver"
                out=$(calc "$(now) - $t0")
                [[ $(stat -c %s "$copy") == "$size" ]] || die "upload: the loopback copy is $(stat -c %s "$copy") bytes, not $size"
                record upload "$r" "$v" receiver_cpu "$(awk '{ printf "%.3f", $1 + $2 }' "$STATE/upload-copy.time")"
            fi
            record upload "$r" "$v" mb_per_second "$(calc "$size / 1000000 / $out")"
        done
    done
    rm -f "$copy"
    stack_down
    stack_use pipe
    summary upload "$((size / 1000000)) MB noisy clip, warm (after $WARMUP uploads): edge/loopback copy MB/s $(paired upload mb_per_second edge copy); MB/s edge $(median upload mb_per_second edge) copy $(median upload mb_per_second copy); receiver CPU-s edge (ingest-api, gateway, nginx) $(median upload receiver_cpu edge) copy (socat) $(median upload receiver_cpu copy); cold (the first upload after the start) edge $(calc "$size / 1000000 / $cold") MB/s" \
        "UPLOAD_CLIP=$UPLOAD_CLIP WARMUP=$WARMUP"
}

# progress: one job at a time through the whole stack, its transcoder's ffmpeg run through bench/ffmpeg-progress-shim.sh
# (which notes when each progress block left ffmpeg). A client on the job's stream through the edge notes when each
# event arrived. Line → client: a transcoding event's "frame N" matched to the last block before it that reported
# frame N (bench/progress-match.awk).
part_progress() {
    local clip r job t0 events lines
    clip=$(clip_path synthetic "$PROGRESS_CLIP")
    export BENCH_PROGRESS_LOG="$OUT/work/ffmpeg-progress.log"
    TRANSCODER_FFMPEG="$BENCH_DIR/ffmpeg-progress-shim.sh" stack_up
    # WARMUP jobs first, unmeasured: in a stack that has just started, the first jobs wait for the JIT (POST → first
    # event fell run by run, from 1.32 s to 0.68 s, while the runs began at once).
    for ((r = 1; r <= WARMUP; r++)); do
        log "progress: warm-up job $r/$WARMUP (load $(load))"
        wait_done "$(submit "$clip")"
    done
    for ((r = 1; r <= RUNS; r++)); do
        log "progress: run $r/$RUNS (load $(load))"
        : >"$BENCH_PROGRESS_LOG"
        events="$OUT/work/progress-events-$r.txt"
        t0=$(now)
        job=$(submit "$clip")
        # Each line of the stream, stamped on arrival (the same wall clock as the shim's).
        curl -fsSN -H "$AUTH" --max-time 3600 "http://127.0.0.1:$EDGE/jobs/$job/stream" |
            python3 -u -c 'import sys, time
for line in sys.stdin:
    print(f"{time.time():.6f} {line}", end="", flush=True)
    if line.startswith("event: done"): break' >"$events" || true
        # POST start → the first progress event of any stage. The client connects as soon as the POST answers; an event
        # stored before that comes with the stream's replay, so this is then the connect time (an upper bound).
        record progress "$r" first_event seconds "$(awk -v t0="$t0" '$2 == "event:" && $3 == "progress" { printf "%.3f", $1 - t0; exit }' "$events")"
        lines="$OUT/work/progress-lines-$r.txt"
        cp "$BENCH_PROGRESS_LOG" "$lines"
        awk -f "$BENCH_DIR/progress-match.awk" "$lines" "$events" >"$OUT/work/line-to-client-$r.txt"
        sort -g "$OUT/work/line-to-client-$r.txt" | awk '{ x[NR] = $1 } END { if (NR) { print "p50", x[int((NR + 1) / 2)]; print "p99", x[NR - int(NR / 100)]; print "n", NR } }' >"$OUT/work/ltc-$r.txt"
        while read -r m v; do record progress "$r" line_to_client "$m" "$v"; done <"$OUT/work/ltc-$r.txt"
    done
    stack_down
    summary progress "ffmpeg progress line → SSE client through the edge: p50 $(median progress p50 line_to_client) ms, p99 $(median progress p99 line_to_client) ms (medians over runs; $(median progress n line_to_client) matched events per run); POST /process → first progress event $(median progress seconds first_event) s; $PROGRESS_CLIP s synthetic clip" \
        "PROGRESS_CLIP=$PROGRESS_CLIP WARMUP=$WARMUP"
    unset BENCH_PROGRESS_LOG
}

# jobs: JOBS uploads queued at once, until the last one is done; 1 transcoder vs 2 (as make run TRANSCODERS=2).
part_jobs() {
    local clip r v t0 cpu0 wall j ids
    clip=$(clip_path synthetic "$JOBS_CLIP")
    for ((r = 1; r <= RUNS; r++)); do
        for v in $(abba "$r" 1 2); do
            stack_up "$v"
            log "jobs: run $r/$RUNS, $JOBS jobs, $v transcoder(s) (load $(load))"
            cpu0=$(cpu_of $(stack_pids))
            t0=$(now)
            ids=()
            for ((j = 0; j < JOBS; j++)); do ids+=("$(submit "$clip")"); done
            for j in "${ids[@]}"; do wait_done "$j"; done
            wall=$(calc "$(now) - $t0")
            record jobs "$r" "t$v" per_hour "$(calc "$JOBS * 3600 / $wall")"
            record jobs "$r" "t$v" cpu "$(calc "$(cpu_of $(stack_pids)) - $cpu0")"
            stack_down
        done
    done
    summary jobs "$JOBS queued jobs of the $JOBS_CLIP s synthetic clip: 2 transcoders/1 jobs per hour $(paired jobs per_hour t2 t1); jobs/h 1 transcoder $(median jobs per_hour t1), 2 transcoders $(median jobs per_hour t2); CPU-s $(median jobs cpu t1) / $(median jobs cpu t2)" \
        "JOBS=$JOBS JOBS_CLIP=$JOBS_CLIP"
}

# memory: every process's Pss with the stack idle (10 s after start) and its peak while a job runs (sampled each
# second; a service includes its ffmpeg children). RabbitMQ and PostgreSQL are shared with whatever else runs here.
memory_groups() {
    local f
    for f in "$STATE"/pids/*.pid; do [[ -e $f ]] && echo "$(basename "$f" .pid) $(tree "$(cat "$f")" | paste -sd,)"; done
    echo "nginx $(edge_pids | paste -sd,)"
    echo "rabbitmq $(pgrep -d, -x beam.smp || true)"
    echo "postgresql $(pgrep -d, -x postgres || true)"
}
memory_sample() { # prints "group KiB" per group
    local group pids
    while read -r group pids; do echo "$group $(pss_of ${pids//,/ })"; done < <(memory_groups)
}
part_memory() {
    local clip r job group kb
    clip=$(clip_path synthetic "$MEMORY_CLIP")
    for ((r = 1; r <= RUNS; r++)); do
        stack_up
        log "memory: run $r/$RUNS (load $(load))"
        sleep 10
        while read -r group kb; do record memory "$r" "$group" idle_kib "$kb"; done < <(memory_sample)
        job=$(submit "$clip")
        : >"$OUT/work/busy"
        (while true; do memory_sample >>"$OUT/work/busy"; sleep 1; done) &
        local sampler=$!
        wait_done "$job"
        kill "$sampler" 2>/dev/null || true
        wait "$sampler" 2>/dev/null || true
        awk '{ if ($2 > m[$1]) m[$1] = $2 } END { for (g in m) print g, m[g] }' "$OUT/work/busy" |
            while read -r group kb; do record memory "$r" "$group" busy_kib "$kb"; done
        stack_down
    done
    local line="" g
    for g in $(awk -F'\t' '{ print $2 }' "$OUT/memory.tsv" | sort -u); do
        line+="$g $(awk -v k="$(median memory idle_kib "$g")" 'BEGIN { printf "%.0f", k / 1024 }')/$(awk -v k="$(median memory busy_kib "$g")" 'BEGIN { printf "%.0f", k / 1024 }') MiB; "
    done
    summary memory "Pss idle/busy (peak during a $MEMORY_CLIP s job), medians: $line" "MEMORY_CLIP=$MEMORY_CLIP"
}

# coldstart: from stopped services (RabbitMQ and PostgreSQL up, the solution built, the database migrated by a first
# start) to the web page answering through the edge: what `make run` takes after its build.
part_coldstart() {
    local r t0
    stack_up
    stack_down
    for ((r = 1; r <= RUNS; r++)); do
        log "coldstart: run $r/$RUNS (load $(load))"
        t0=$(now)
        stack_up
        until curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$EDGE/"; do sleep 0.1; done
        record coldstart "$r" stack seconds "$(calc "$(now) - $t0")"
        stack_down
    done
    summary coldstart "stopped services → page answers through the edge: median $(median coldstart seconds stack) s, range $(range coldstart seconds stack) s" ""
}

# ---------------------------------------------------------------------------------------------------- setup

# expected_minutes: a rough duration of the chosen parts on 2 quiet cores, from the knobs (per second of clip, the
# pipeline, bare and limit variants together take about 3.5 s; noisy clips more).
expected_minutes() {
    awk -v parts=" $PARTS " -v runs="$RUNS" -v clips="$CLIPS" -v kinds="$KINDS" -v sse="$SSE_CLIENTS" -v sec="$SSE_SECONDS" \
        -v connmem="$CONNMEM_CLIENTS" -v ingest="$INGEST_COUNT" -v jobs="$JOBS" -v jclip="$JOBS_CLIP" -v pclip="$PROGRESS_CLIP" \
        -v mclip="$MEMORY_CLIP" -v rclip="$RESUME_CLIP" 'BEGIN {
        nk = split(kinds, k, " "); nc = split(clips, c, " "); ns = split(sse, s, " "); nm = split(connmem, m, " ")
        if (index(parts, " pipeline ")) for (i = 1; i <= nc; i++) t += runs * nk * (c[i] * 4 + 30)
        if (index(parts, " resume ")) t += runs * 2 * (rclip * 1.5 + 10) + 30
        if (index(parts, " sse ")) for (i = 1; i <= ns; i++) t += runs * 2 * (sec + s[i] / 500 + 15)
        if (index(parts, " connmem ")) for (i = 1; i <= nm; i++) t += runs * (sec + m[i] / 500 + 30)
        if (index(parts, " poll ")) t += runs * 2 * (sec + 20)
        if (index(parts, " ingest ")) t += (3 * runs + 1) * (ingest / 4000 + 5)
        if (index(parts, " upload ")) t += runs * 2 * 15 + 30
        if (index(parts, " progress ")) t += runs * (pclip * 2 + 15) + 30
        if (index(parts, " jobs ")) t += runs * (jobs * (jclip * 2 + 5) * 1.7 + 60)
        if (index(parts, " memory ")) t += runs * (mclip * 2 + 50)
        if (index(parts, " coldstart ")) t += (runs + 1) * 25
        printf "%.0f", t / 60 + 2 }'
}

# Many SSE connections need many descriptors, in this script's children (gateway, load generator, nginx) too.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

bash "$REPO_ROOT/scripts/infra.sh" install >/dev/null # what a fresh machine lacks (jq, ffmpeg, nginx, ...)
bash "$REPO_ROOT/scripts/infra.sh" up >/dev/null      # RabbitMQ + PostgreSQL (idempotent; left running afterwards)
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    log "building services (Release) and bench/SseLatency"
    # Others may be mid-edit: if the solution does not build, fall back to the last Release build and say so.
    (cd "$REPO_ROOT" && dotnet build Vidline.slnx -c Release -nologo -v quiet -clp:ErrorsOnly) >"$OUT/build.log" 2>&1 ||
        BUILD_NOTE="solution build FAILED (see build.log); services ran from the previous Release build"
fi
(cd "$BENCH_DIR/SseLatency" && dotnet build -c Release -nologo -v quiet -clp:ErrorsOnly) >>"$OUT/build.log" 2>&1 ||
    { cat "$OUT/build.log" >&2; die "bench/SseLatency build failed"; }
LOADGEN=(dotnet "$BENCH_DIR/SseLatency/bin/Release/net10.0/SseLatency.dll")

say "Vidline bench $RUN_ID at commit $(git -C "$REPO_ROOT" rev-parse --short HEAD)$(git -C "$REPO_ROOT" diff --quiet HEAD -- services shared bench || echo ' (working tree has uncommitted changes in services/, shared/ or bench/)')"
[[ -z ${BUILD_NOTE:-} ]] || say "WARNING: $BUILD_NOTE"
say "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr); $(ffmpeg -version | head -n1 | cut -d' ' -f1-3); dotnet $(dotnet --version)"
say "parts: $PARTS; RUNS=$RUNS; load average at start: $(cut -d' ' -f1-3 /proc/loadavg); expected to take about $(expected_minutes) min on 2 quiet cores"
say "ratios: median [min–max] of the per-run paired ratios (variant / baseline of the same run, variants interleaved ABBA)"
STARTED_AT=$SECONDS

for part in $PARTS; do "part_$part"; done
say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); took $(((SECONDS - STARTED_AT) / 60)) min $(((SECONDS - STARTED_AT) % 60)) s"
