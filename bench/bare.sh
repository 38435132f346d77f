#!/usr/bin/env bash
# What a careful person would write by hand for the pipeline's output: the upload in storage and probed, the ABR
# ladder (same rungs and encoder settings as the transcoder) plus ONE audio encode written by one ffmpeg straight into
# CMAF/fMP4 segments with DASH and HLS manifests (no intermediates, no re-mux), then SSIM + PSNR of every rung against
# the source from one ffmpeg that decodes the source once, then publication by rename.
#
#   bench/bare.sh CLIP WORKDIR
#
# Prints "stage seconds" per stage (uploading, encoding, validation, storage), then "total seconds"; fails when an
# output or a quality summary is missing. Settings: PRESET KEYINT AUDIO_KBPS (bench/ladder-args.sh).
set -euo pipefail
CLIP=$(realpath "$1")
WORK=$2
# shellcheck source=ladder-args.sh
source "$(dirname "${BASH_SOURCE[0]}")/ladder-args.sh"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

rm -rf "$WORK"
mkdir -p "$WORK/sources" "$WORK/package" "$WORK/outputs"
SRC=$WORK/sources/clip.mp4
T0=$(now)

# uploading: the upload lands in storage and is probed.
cp "$CLIP" "$SRC"
probe_source "$SRC"
T1=$(now)

# encoding: one decode, every rung + one audio track, segmented by the dash muxer (fMP4 segments that HLS plays too).
ladder_rungs
n=${#RUNGS[@]}
ladder_args "$SRC"
sets="id=0,streams=v"
[[ $HAS_AUDIO != true ]] || sets+=" id=1,streams=a"
"${FF[@]}" "${ARGS[@]}" -f dash -seg_duration "$KEYINT" -use_template 1 -use_timeline 1 -hls_playlist 1 \
    -hls_master_name master.m3u8 -adaptation_sets "$sets" "$WORK/package/manifest.mpd" </dev/null
T2=$(now)

# validation: the source decoded once and split to one comparison per rung; each rung read through its HLS playlist
# (media_<i>.m3u8, the dash muxer's numbering), scaled up to the source size.
graph="[0:v]setsar=1,format=yuv420p,split=$((2 * n))"
for ((i = 0; i < 2 * n; i++)); do graph+="[r$i]"; done
inputs=(-i "$SRC")
for ((i = 0; i < n; i++)); do
    inputs+=("${IN[@]}" "$WORK/package/media_$i.m3u8")
    graph+=";[$((i + 1)):v]scale=$WIDTH:$HEIGHT:flags=bicubic,setsar=1,format=yuv420p,split=2[d$i][e$i]"
    graph+=";[d$i][r$((2 * i))]ssim;[e$i][r$((2 * i + 1))]psnr"
done
"${FF[@]}" -loglevel info -threads "$(nproc)" "${inputs[@]}" -filter_threads "$(nproc)" -lavfi "$graph" -an -f null - \
    </dev/null >/dev/null 2>"$WORK/quality.log"
[[ $(grep -c 'SSIM .*All:' "$WORK/quality.log") == "$n" && $(grep -c 'PSNR .*average:' "$WORK/quality.log") == "$n" ]] ||
    { echo "bare.sh: expected $n SSIM and PSNR summaries (see $WORK/quality.log)" >&2; exit 1; }
T3=$(now)

# storage: publish by rename.
mv "$WORK/package" "$WORK/outputs/clip"
T4=$(now)
[[ -s $WORK/outputs/clip/master.m3u8 && -s $WORK/outputs/clip/manifest.mpd ]] || { echo "bare.sh: no manifests" >&2; exit 1; }

echo "uploading $(elapsed "$T0" "$T1")"
echo "encoding $(elapsed "$T1" "$T2")"
echo "validation $(elapsed "$T2" "$T3")"
echo "storage $(elapsed "$T3" "$T4")"
echo "total $(elapsed "$T0" "$T4")"
