#!/usr/bin/env bash
# The pipeline's media work with nothing around it: the same ffprobe/ffmpeg commands the services run
# (copied from shared/media: MediaProbe, LadderTranscoder, QualityMeter, AbrPackager), in the same order,
# plus the same file copies, timed per stage.
#
#   bench/bare.sh CLIP WORKDIR
#
# Prints one line per stage, "stage seconds", then "total seconds".
# Settings (as the services have them by default): PRESET=veryfast KEYINT=2 VALIDATE_PARALLEL=2.
# Must match shared/media/*.cs: when those change, change ladder-args.sh and this file with them.
set -euo pipefail

CLIP=$(realpath "$1")
WORK=$2
VALIDATE_PARALLEL=${VALIDATE_PARALLEL:-2} # services/validator/appsettings.json QualityGate:Parallelism
THREADS=$(nproc)                          # QualityMeter uses Environment.ProcessorCount
# shellcheck source=ladder-args.sh
source "$(dirname "${BASH_SOURCE[0]}")/ladder-args.sh"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

rm -rf "$WORK"
mkdir -p "$WORK/sources" "$WORK/work/renditions" "$WORK/work/package" "$WORK/outputs"
SRC=$WORK/sources/clip.mp4
T0=$(now)

# ---- uploading: the upload lands in storage, then ingest probes it (MediaProbe).
cp "$CLIP" "$SRC"
probe=$(ffprobe -hide_banner -v error -print_format json -show_format -show_streams "${IN[@]}" "$SRC" </dev/null)
WIDTH=$(jq -r '[.streams[] | select(.codec_type == "video")][0].width' <<<"$probe")
HEIGHT=$(jq -r '[.streams[] | select(.codec_type == "video")][0].height' <<<"$probe")
HAS_AUDIO=$(jq -r '[.streams[] | select(.codec_type == "audio")] | length > 0' <<<"$probe")
DURATION=$(jq -r '.format.duration' <<<"$probe")
T1=$(now)

# ---- transcoding: RenditionLadder picks the default rungs at or below the source height (LadderOptions.DefaultRungs),
# LadderTranscoder encodes them all from one decode, with one sound track, into fMP4 segments.
ladder_rungs "$WIDTH" "$HEIGHT"
n=${#RUNGS[@]}
single_pass_args "$SRC" "$HAS_AUDIO" "$WORK/work/renditions"
"${FF[@]}" "${ARGS[@]}" >/dev/null 2>"$WORK/transcode.log"
T2=$(now)

# ---- validation: QualityMeter per rendition, VALIDATE_PARALLEL at a time (the validator's Parallel.ForEachAsync).
# The validator also asks `ffmpeg -filters` once per process whether libvmaf exists.
vmaf=0
if "${FF[@]}" -filters 2>/dev/null | grep ' libvmaf ' >/dev/null; then vmaf=1; fi
measure() {
    local rendition=$1 graph
    if ((vmaf)); then
        graph="[0:v]scale=$WIDTH:$HEIGHT:flags=bicubic,setsar=1,format=yuv420p,split=3[d0][d1][d2];[1:v]setsar=1,format=yuv420p,split=3[r0][r1][r2];[d0][r0]ssim;[d1][r1]psnr;[d2][r2]libvmaf=n_threads=$THREADS"
    else
        graph="[0:v]scale=$WIDTH:$HEIGHT:flags=bicubic,setsar=1,format=yuv420p,split=2[d0][d1];[1:v]setsar=1,format=yuv420p,split=2[r0][r1];[d0][r0]ssim;[d1][r1]psnr"
    fi
    "${FF[@]}" -threads "$THREADS" "${IN[@]}" "$rendition" -threads "$THREADS" "${IN[@]}" "$SRC" \
        -filter_threads "$THREADS" -lavfi "$graph" -an -f null - </dev/null >/dev/null 2>"$rendition.quality.log"
    grep -q 'SSIM .*All:' "$rendition.quality.log" && grep -q 'PSNR .*average:' "$rendition.quality.log"
}
pids=()
for ((i = 0; i < n; i++)); do
    read -r name _ <<<"${RUNGS[i]}"
    measure "$WORK/work/renditions/$name/media.m3u8" &
    pids+=($!)
    # At most VALIDATE_PARALLEL at once: wait for the oldest before starting another.
    if ((${#pids[@]} >= VALIDATE_PARALLEL)); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done
T3=$(now)

# ---- packaging: AbrPackager links the segments into the package (no re-mux) and writes the manifests (a few KB of
# text; left out here).
cp -al "$WORK/work/renditions/." "$WORK/work/package/"
T4=$(now)

# ---- storage: StoreOutputsConsumer copies the package to outputs/ and deletes the work folder.
cp -r "$WORK/work/package/." "$WORK/outputs/"
rm -rf "$WORK/work"
T5=$(now)

echo "uploading $(elapsed "$T0" "$T1")"
echo "transcoding $(elapsed "$T1" "$T2")"
echo "validation $(elapsed "$T2" "$T3")"
echo "packaging $(elapsed "$T3" "$T4")"
echo "storage $(elapsed "$T4" "$T5")"
echo "total $(elapsed "$T0" "$T5")"
