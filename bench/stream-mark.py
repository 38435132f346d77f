"""Follows one job's SSE stream for bench/run.sh's resume part.

    stream-mark.py URL AUTH-HEADER STAGE PERCENT MARK-FILE  >EVENTS

Every line of the stream goes to stdout stamped with its arrival time (seconds since the epoch, the clock of bash's
`date +%s.%N`). The first time STAGE reports stage_progress >= PERCENT, "time percent" is written to MARK-FILE
(whole, by rename: the bench polls for it and must not read half a line). Ends at the job's `done` event, or when the
stream ends without one (exit status 1).
"""
import json
import os
import subprocess
import sys
import time

url, auth, stage, percent, mark = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
# curl rather than urllib: the same client, headers and buffering (-N) as the bench's other stream readers.
curl = subprocess.Popen(["curl", "-fsSN", "--max-time", "3600", "-H", auth, url], stdout=subprocess.PIPE, text=True)
event, marked, done = None, False, False
try:
    for line in curl.stdout:
        print(f"{time.time():.6f} {line}", end="", flush=True)
        if line.startswith("event:"):
            event = line[6:].strip()
            done = event == "done"
            if done:
                break
        elif line.startswith("data:") and event == "progress" and not marked:
            data = json.loads(line[5:])
            if data.get("stage") == stage and data.get("stage_progress", 0) >= percent:
                with open(mark + ".new", "w") as f:
                    f.write(f"{time.time():.6f} {data['stage_progress']}\n")
                os.rename(mark + ".new", mark)
                marked = True
        elif not line.strip():
            event = None
finally:
    curl.kill()
    curl.wait()
sys.exit(0 if done else 1)
