# The ABR ladder, as bench/bare.sh and bench/limit.sh encode it (sourced, not executed).
# Rungs, bitrates and encoder settings are the transcoder's defaults (services/transcoder/appsettings.json Media:Ladder,
# LadderOptions.DefaultRungs): when those change, change this file with them.

PRESET=${PRESET:-veryfast} # Media:Ladder:Preset
KEYINT=${KEYINT:-2}        # Media:Ladder:KeyframeIntervalSeconds
AUDIO_KBPS=${AUDIO_KBPS:-128} # one audio track for every rung: the top rung's audio bitrate

FF=(ffmpeg -nostdin -hide_banner -y -loglevel error)
IN=(-protocol_whitelist file,pipe -i)

# probe_source FILE: sets WIDTH, HEIGHT and HAS_AUDIO (true|false) from one ffprobe.
probe_source() {
    local probe
    probe=$(ffprobe -hide_banner -v error -print_format json -show_format -show_streams "${IN[@]}" "$1" </dev/null)
    WIDTH=$(jq -r '[.streams[] | select(.codec_type == "video")][0].width' <<<"$probe")
    HEIGHT=$(jq -r '[.streams[] | select(.codec_type == "video")][0].height' <<<"$probe")
    HAS_AUDIO=$(jq -r '[.streams[] | select(.codec_type == "audio")] | length > 0' <<<"$probe")
}

# ladder_rungs: sets RUNGS to "name width height video_kbps" for each default rung at or below the source height
# (WIDTH, HEIGHT), widths rounded to even numbers keeping the source aspect.
ladder_rungs() {
    local name height vkbps width
    RUNGS=()
    while read -r name height vkbps; do
        ((height <= HEIGHT)) || continue
        width=$(awk -v h="$height" -v W="$WIDTH" -v H="$HEIGHT" 'BEGIN { w = 2 * int(h * W / H / 2 + 0.5); print (w < 2 ? 2 : w) }')
        RUNGS+=("$name $width $height $vkbps")
    done <<'RUNGS'
1080p 1080 5000
720p 720 2800
480p 480 1400
360p 360 800
RUNGS
}

# ladder_args SOURCE: ARGS = input, one decode split to every rung's scaler, and per rung -map + libx264 options;
# then one AAC encode of the audio (when there is audio). The caller appends the output(s).
ladder_args() {
    local n=${#RUNGS[@]} labels="" scales="" i name width height vkbps
    for ((i = 0; i < n; i++)); do
        read -r name width height vkbps <<<"${RUNGS[i]}"
        labels+="[s$i]"
        scales+=";[s$i]scale=$width:$height[v$i]"
    done
    ARGS=("${IN[@]}" "$1" -filter_complex "[0:v]split=$n$labels$scales")
    for ((i = 0; i < n; i++)); do
        read -r name width height vkbps <<<"${RUNGS[i]}"
        ARGS+=(-map "[v$i]" "-c:v:$i" libx264 "-preset:v:$i" "$PRESET" "-b:v:$i" "${vkbps}k" "-maxrate:v:$i" "${vkbps}k"
            "-bufsize:v:$i" "$((vkbps * 2))k")
    done
    ARGS+=(-force_key_frames "expr:gte(t,n_forced*$KEYINT)" -sc_threshold 0 -pix_fmt yuv420p)
    [[ $HAS_AUDIO != true ]] || ARGS+=(-map 0:a:0 -c:a aac -b:a "${AUDIO_KBPS}k")
}
