#!/usr/bin/env bash
# Checks bench/stats.sh: ABBA order, ratios paired within a run (not medians divided), median, range, slopes.
#   bash bench/stats-test.sh     prints "ok" or what differs, exit 1
set -euo pipefail
# shellcheck source=stats.sh
source "$(dirname "${BASH_SOURCE[0]}")/stats.sh"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
failures=0
expect() { # WHAT EXPECTED ACTUAL
    if [[ $2 != "$3" ]]; then echo "FAIL $1: expected '$2', got '$3'"; failures=$((failures + 1)); fi
}

expect "abba, odd run" "A B C" "$(abba 1 A B C | paste -sd' ')"
expect "abba, even run" "C B A" "$(abba 2 A B C | paste -sd' ')"

# Run 3's machine was twice as slow for both variants: paired, every ratio is 0.5; the medians' ratio (2/2) is not.
record t 1 v wall 1; record t 1 b wall 2
record t 2 v wall 1; record t 2 b wall 2
record t 3 v wall 2; record t 3 b wall 4
record t 4 v wall 3; record t 4 b wall 2
expect "paired median [min–max]" "0.500 [0.500–1.500]" "$(paired t wall v b)"
expect "paired, metric absent" "n/a" "$(paired t cpu v b)"
expect "median, even count" "2" "$(median t wall b)"
expect "median, odd count" "0.25" "$(record u 1 v x 0.25; record u 2 v x 0.5; record u 3 v x 0.125; median u x v)"
expect "range" "1.00–3.00" "$(range t wall v)"

# Pss = 1000 + 20 per client (gateway), 500 + 18 per client (nginx), in two runs.
printf '1\t100\t3000\t2300\n1\t500\t11000\t9500\n2\t200\t5000\t4100\n2\t1000\t21000\t18500\n' >"$OUT/points.tsv"
expect "slopes" "1 20.00 18.00;2 20.00 18.00" "$(slopes "$OUT/points.tsv" | sort | paste -sd';')"

((failures == 0)) && echo ok || exit 1
