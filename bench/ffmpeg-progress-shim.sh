#!/usr/bin/env bash
# Media:FfmpegPath of the transcoder in the bench's `progress` part: runs ffmpeg with its arguments and passes its
# output through unchanged, noting in $BENCH_PROGRESS_LOG when each progress block (-progress pipe:1) ended and its
# frame number ("<unix seconds> <frame>"), so a client can tell how long that line took to reach it.
set -o pipefail
ffmpeg "$@" | perl -MTime::HiRes=time -ne '
    BEGIN { $| = 1; open(LOG, ">>", $ENV{BENCH_PROGRESS_LOG}) or die "BENCH_PROGRESS_LOG: $!"; select((select(LOG), $| = 1)[0]) }
    print;
    $frame = $1 if /^frame=(\d+)/;
    printf LOG "%.6f %s\n", time, $frame if /^progress=/;'
