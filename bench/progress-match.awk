# bench/run.sh, part progress: awk -f progress-match.awk FFMPEG-PROGRESS-LOG STREAM-LOG
# Pairs each transcoding event ("frame N of M" in its message) with the latest ffmpeg progress block that reported
# frame N before the event arrived (the transcoder may run ffmpeg more than once per job); prints milliseconds.
NR == FNR { at[$2] = ($2 in at ? at[$2] " " : "") $1; next }
$2 == "data:" && match($0, /"message": ?"frame [0-9]+ of/) {
    f = substr($0, RSTART, RLENGTH); gsub(/[^0-9 ]/, "", f); split(f, w, " ")
    if (!(w[1] in at)) next
    n = split(at[w[1]], t, " "); best = 0
    for (i = 1; i <= n; i++) if (t[i] <= $1 && t[i] > best) best = t[i]
    if (best) printf "%.1f\n", ($1 - best) * 1000
}
