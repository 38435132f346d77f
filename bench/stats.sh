# The bench's statistics (sourced by bench/run.sh; bench/stats-test.sh checks them). Measurements live in
# $OUT/<part>.tsv, one per line: run, variant, metric, value (tab-separated).

# abba RUN VARIANT...: the variants in this run's order: as given in odd runs, reversed in even ones.
abba() {
    local run=$1
    shift
    if ((run % 2)); then printf '%s\n' "$@"; else printf '%s\n' "$@" | tac; fi
}

# record PART RUN VARIANT METRIC VALUE: one measurement, into $OUT/<part>.tsv.
record() { printf '%s\t%s\t%s\t%s\n' "$2" "$3" "$4" "$5" >>"$OUT/$1.tsv"; }

# paired PART METRIC VARIANT BASELINE: "median [min–max]" of VARIANT / BASELINE taken run by run.
paired() {
    awk -F'\t' -v m="$2" -v a="$3" -v b="$4" '
        $3 == m && $2 == a { va[$1] = $4 } $3 == m && $2 == b { vb[$1] = $4 }
        END {
            n = 0
            for (r in va) if ((r in vb) && vb[r] + 0 != 0) x[++n] = va[r] / vb[r]
            if (n == 0) { print "n/a"; exit }
            for (i = 2; i <= n; i++) { v = x[i]; for (j = i - 1; j > 0 && x[j] > v; j--) x[j + 1] = x[j]; x[j + 1] = v }
            med = n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
            printf "%.3f [%.3f–%.3f]", med, x[1], x[n]
        }' "$OUT/$1.tsv" 2>/dev/null || echo n/a
}

# median PART METRIC VARIANT: the median of that metric over the runs.
median() {
    awk -F'\t' -v m="$2" -v a="$3" '
        $3 == m && $2 == a && $4 != "" { x[++n] = $4 }
        END {
            if (n == 0) { print "n/a"; exit }
            for (i = 2; i <= n; i++) { v = x[i]; for (j = i - 1; j > 0 && x[j] > v; j--) x[j + 1] = x[j]; x[j + 1] = v }
            v = n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
            printf (v == int(v) || v >= 100 || v <= -100 ? "%.0f" : v >= 1 || v <= -1 ? "%.2f" : "%.3g"), v
        }' "$OUT/$1.tsv" 2>/dev/null || echo n/a
}

# range PART METRIC VARIANT: "min–max" of that metric over the runs.
range() {
    awk -F'\t' -v m="$2" -v a="$3" '$3 == m && $2 == a && $4 != "" { if (n++ == 0 || $4 < lo) lo = $4; if (n == 1 || $4 > hi) hi = $4 }
        END { if (n) printf "%.2f–%.2f", lo, hi; else print "n/a" }' "$OUT/$1.tsv" 2>/dev/null || echo n/a
}

# slopes FILE: for lines "run x y1 y2" (tab-separated), per run "run slope1 slope2": the least-squares slopes of y1
# and y2 over x.
slopes() {
    awk -F'\t' '
        { n[$1]++; x[$1] += $2; g[$1] += $3; e[$1] += $4; xx[$1] += $2 * $2; xg[$1] += $2 * $3; xe[$1] += $2 * $4 }
        END { for (r in n) { d = n[r] * xx[r] - x[r] * x[r]; if (d > 0) printf "%s %.2f %.2f\n", r, (n[r] * xg[r] - x[r] * g[r]) / d, (n[r] * xe[r] - x[r] * e[r]) / d } }' "$1"
}
