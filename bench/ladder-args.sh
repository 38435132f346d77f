# The ladder as the transcoder builds it (sourced by bare.sh and ladder.sh, not executed).
# Mirrors LadderOptions.DefaultRungs, RenditionLadder.For and LadderTranscoder.BuildArguments.

PRESET=${PRESET:-veryfast} # services/transcoder/appsettings.json Media:Ladder:Preset
KEYINT=${KEYINT:-2}        # Media:Ladder:KeyframeIntervalSeconds

# FfmpegRunner puts these in front of every ffmpeg run; HardenedInput puts the whitelist before every -i.
FF=(ffmpeg -nostdin -hide_banner -y)
IN=(-protocol_whitelist file,pipe -i)

# ladder_rungs WIDTH HEIGHT: sets RUNGS to "name width height video_kbps audio_kbps" for each default rung at or
# below the source height, widths rounded to even numbers keeping the source aspect.
ladder_rungs() {
    local W=$1 H=$2 name height vkbps akbps width
    RUNGS=()
    while read -r name height vkbps akbps; do
        ((height <= H)) || continue
        width=$(awk -v h="$height" -v W="$W" -v H="$H" 'BEGIN { w = 2 * int(h * W / H / 2 + 0.5); print (w < 2 ? 2 : w) }')
        RUNGS+=("$name $width $height $vkbps $akbps")
    done <<'RUNGS'
1080p 1080 5000 128
720p 720 2800 128
480p 480 1400 128
360p 360 800 96
RUNGS
}

# encoder_args VIDEO_LABEL HAS_AUDIO(true|false) RUNG OUTPUT: appends one output's options to ARGS.
encoder_args() {
    local label=$1 has_audio=$2 out=$4 name width height vkbps akbps
    read -r name width height vkbps akbps <<<"$3"
    ARGS+=(-map "$label")
    [[ $has_audio == true ]] && ARGS+=(-map 0:a:0)
    ARGS+=(-c:v libx264 -preset "$PRESET" -b:v "${vkbps}k" -maxrate "${vkbps}k" -bufsize "$((vkbps * 2))k"
        -force_key_frames "expr:gte(t,n_forced*$KEYINT)" -sc_threshold 0 -pix_fmt yuv420p)
    [[ $has_audio == true ]] && ARGS+=(-c:a aac -b:a "${akbps}k")
    ARGS+=(-movflags +faststart "$out")
}

# single_ladder_args SOURCE HAS_AUDIO OUTDIR: ARGS for LadderTranscoder's one process (decode once, split, N encoders).
single_ladder_args() {
    local src=$1 has_audio=$2 dir=$3 n=${#RUNGS[@]} labels="" scales="" i name width height rest
    for ((i = 0; i < n; i++)); do
        read -r name width height rest <<<"${RUNGS[i]}"
        labels+="[s$i]"
        scales+=";[s$i]scale=$width:$height[v$i]"
    done
    ARGS=(-progress pipe:1 -nostats "${IN[@]}" "$src" -filter_complex "[0:v]split=$n$labels$scales")
    for ((i = 0; i < n; i++)); do
        read -r name rest <<<"${RUNGS[i]}"
        encoder_args "[v$i]" "$has_audio" "${RUNGS[i]}" "$dir/$name.mp4"
    done
}

# single_pass_args SOURCE HAS_AUDIO OUTDIR: ARGS for LadderTranscoder as the pipeline runs it now: one decode, every rung
# (picture only) and one AAC track written straight into fMP4 segments, OUTDIR/{rung}/ and OUTDIR/audio/ (LadderFolder).
single_pass_args() {
    local src=$1 has_audio=$2 dir=$3 n=${#RUNGS[@]} labels="" scales="" map=() streams="" akbps=0 i name width height vkbps a
    for ((i = 0; i < n; i++)); do
        read -r name width height vkbps a <<<"${RUNGS[i]}"
        labels+="[s$i]"
        scales+=";[s$i]scale=$width:$height[v$i]"
        map+=(-map "[v$i]" "-b:v:$i" "${vkbps}k" "-maxrate:v:$i" "${vkbps}k" "-bufsize:v:$i" "$((vkbps * 2))k")
        streams+="v:$i,name:$name "
        ((a > akbps)) && akbps=$a
    done
    local graph="[0:v]split=$n$labels$scales"
    [[ $has_audio == true ]] && { graph+=";[0:a:0]apad[a]"; streams+="a:0,name:audio"; }
    ARGS=(-progress pipe:1 -nostats "${IN[@]}" "$src" -filter_complex "$graph" "${map[@]}"
        -c:v libx264 -preset "$PRESET" -force_key_frames "expr:gte(t,n_forced*$KEYINT)" -sc_threshold 0 -pix_fmt yuv420p)
    [[ $has_audio == true ]] && ARGS+=(-map "[a]" -c:a aac -b:a "${akbps}k" -ac 2)
    ARGS+=(-t "$DURATION" -map_chapters -1 -map_metadata -1 -output_ts_offset 10
        -f hls -hls_time "$KEYINT" -hls_segment_type fmp4 -hls_playlist_type vod -hls_list_size 0
        -hls_flags temp_file+independent_segments -start_number 1 -hls_segment_options movflags=+frag_discont
        -hls_fmp4_init_filename "init-%v.mp4" -hls_segment_filename "$dir/%v/seg-%05d.m4s"
        -var_stream_map "${streams% }" "$dir/%v/media.m3u8")
}

# rung_args SOURCE HAS_AUDIO RUNG OUTDIR: ARGS for one rung in its own process (its own decode), same encoder settings.
rung_args() {
    local src=$1 has_audio=$2 rung=$3 dir=$4 name width height rest
    read -r name width height rest <<<"$rung"
    ARGS=(-progress pipe:1 -nostats "${IN[@]}" "$src" -filter_complex "[0:v]scale=$width:$height[v0]")
    encoder_args "[v0]" "$has_audio" "$rung" "$dir/$name.mp4"
}
