# Reads services/services.tsv for shell readers (scripts/lib.sh `manifest`, services/Dockerfile). POSIX awk.
#   -v columns="name port"   the columns to print, tab-separated, one line per service
#   -v where="edge=yes"      optional: only the services whose column has that value
# Services come out in start order: by phase, and within a phase as they stand in the file.
function fail(message) {
    printf "%s: %s\n", FILENAME, message > "/dev/stderr"
    failed = 1
    exit 2
}

BEGIN {
    FS = "\t"
    wanted = split(columns, want, " ")
    if (wanted == 0) { printf "manifest.awk: no columns asked for\n" > "/dev/stderr"; failed = 1; exit 2 }
    if (where != "") {
        equals = index(where, "=")
        where_column = substr(where, 1, equals - 1)
        where_value = substr(where, equals + 1)
    }
}

/^#/ || /^[ \t]*$/ { next }

!fields {
    fields = NF
    for (i = 1; i <= NF; i++) column[$i] = i
    for (i = 1; i <= wanted; i++) if (!(want[i] in column)) fail("no column '" want[i] "'")
    if (where_column != "" && !(where_column in column)) fail("no column '" where_column "'")
    if (!("phase" in column)) fail("no column 'phase'")
    next
}

{
    if (NF != fields) fail("line " FNR " has " NF " fields, the header " fields)
    phase = $column["phase"]
    if (phase !~ /^[0-9]+$/) fail("line " FNR ": phase '" phase "' is not a number")
    if (where_column != "" && $column[where_column] != where_value) next
    line = $column[want[1]]
    for (i = 2; i <= wanted; i++) line = line "\t" $column[want[i]]
    rows[phase + 0] = rows[phase + 0] line "\n"
    if (phase + 0 > last) last = phase + 0
}

END {
    if (failed) exit 2
    if (!fields) { printf "%s: no header line\n", FILENAME > "/dev/stderr"; exit 2 }
    for (p = 0; p <= last; p++) printf "%s", rows[p]
}
