#!/usr/bin/env bash
# The limit for the pipeline's media work: the same ladder (rungs, encoder settings, one audio encode) encoded by one
# ffmpeg from one decode and thrown away (-f null): nothing written, nothing validated or packaged.
#
#   bench/limit.sh CLIP          prints "total seconds"
#   bench/limit.sh CLIP --loop   encodes the clip over and over until killed (background load for the SSE parts)
set -euo pipefail
# shellcheck source=ladder-args.sh
source "$(dirname "${BASH_SOURCE[0]}")/ladder-args.sh"
probe_source "$1"
ladder_rungs
ladder_args "$1"
[[ ${2:-} != --loop ]] || ARGS=(-stream_loop -1 "${ARGS[@]}")
start=$(date +%s.%N)
"${FF[@]}" "${ARGS[@]}" -f null - </dev/null
awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "total %.3f\n", b - a }'
