#!/usr/bin/env bash
# Part B: the ABR ladder from one decode in one ffmpeg process (LadderTranscoder) versus one ffmpeg process per
# rung, each decoding the source itself, with the same encoder settings.
#
#   bench/ladder.sh CLIP WORKDIR single|parallel|sequential
#
#   single      LadderTranscoder's command: decode once, split, all encoders in one process
#   parallel    one process per rung, all started at once (what per-rendition workers on one machine would do)
#   sequential  one process per rung, one after the other
#
# Prints "seconds <wall time>".
set -euo pipefail
CLIP=$(realpath "$1")
WORK=$2
MODE=$3
# shellcheck source=ladder-args.sh
source "$(dirname "${BASH_SOURCE[0]}")/ladder-args.sh"

rm -rf "$WORK"
mkdir -p "$WORK"
probe=$(ffprobe -hide_banner -v error -print_format json -show_streams "${IN[@]}" "$CLIP" </dev/null)
WIDTH=$(jq -r '[.streams[] | select(.codec_type == "video")][0].width' <<<"$probe")
HEIGHT=$(jq -r '[.streams[] | select(.codec_type == "video")][0].height' <<<"$probe")
HAS_AUDIO=$(jq -r '[.streams[] | select(.codec_type == "audio")] | length > 0' <<<"$probe")
ladder_rungs "$WIDTH" "$HEIGHT"

start=$(date +%s.%N)
case $MODE in
    single)
        single_ladder_args "$CLIP" "$HAS_AUDIO" "$WORK"
        "${FF[@]}" "${ARGS[@]}" >/dev/null 2>"$WORK/ffmpeg.log" ;;
    parallel)
        pids=()
        for rung in "${RUNGS[@]}"; do
            rung_args "$CLIP" "$HAS_AUDIO" "$rung" "$WORK"
            "${FF[@]}" "${ARGS[@]}" >/dev/null 2>"$WORK/${rung%% *}.log" &
            pids+=($!)
        done
        for p in "${pids[@]}"; do wait "$p"; done ;;
    sequential)
        for rung in "${RUNGS[@]}"; do
            rung_args "$CLIP" "$HAS_AUDIO" "$rung" "$WORK"
            "${FF[@]}" "${ARGS[@]}" >/dev/null 2>"$WORK/${rung%% *}.log"
        done ;;
    *) echo "mode must be single, parallel or sequential" >&2; exit 2 ;;
esac
end=$(date +%s.%N)
for rung in "${RUNGS[@]}"; do [[ -s $WORK/${rung%% *}.mp4 ]] || { echo "missing ${rung%% *}.mp4" >&2; exit 1; }; done
awk -v a="$start" -v b="$end" 'BEGIN { printf "seconds %.3f\n", b - a }'
