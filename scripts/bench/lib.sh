# Helpers shared by scripts/bench/run and scripts/bench/micro. Source it; it defines functions only.
# shellcheck shell=bash

# The model file to serve or load: the binary form when this build's `classify convert` exists
# (JSON models of >= 1M features are large and slow to load), else the JSON itself.
# usage: model=$(bench_model_file CLASSIFY_BIN MODEL.json)
bench_model_file() {
    local classify=$1 json=$2
    if "$classify" convert --help >/dev/null 2>&1; then
        local binary="${json%.json}"
        binary="${binary%.model}.model"
        if [ ! -s "$binary" ] || [ "$binary" -ot "$json" ]; then
            echo ">> converting $(basename "$json") to the binary form (classify convert)" >&2
            "$classify" convert "$json" -o "$binary" >&2
        fi
        echo "$binary"
    else
        echo ">> this build has no 'classify convert': using the JSON model" >&2
        echo "$json"
    fi
}

# A free TCP port on 127.0.0.1 (the kernel picks it; a tiny race with other programs remains).
free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# PID and every descendant of it (Apache's parent, its children, mod_wsgi daemon processes).
process_tree() {
    local pid=$1 child
    [ -d "/proc/$pid" ] || return 0
    echo "$pid"
    for child in $(pgrep -P "$pid" || true); do
        process_tree "$child"
    done
}

# Sum of PSS (KiB) over PID and its descendants, from /proc/PID/smaps_rollup.
pss_tree_kib() {
    local total=0 pid pss
    for pid in $(process_tree "$1"); do
        pss=$(awk '/^Pss:/ {print $2; exit}' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
        total=$((total + ${pss:-0}))
    done
    echo "$total"
}

# Number of processes in the tree under PID (the parent included).
count_tree() {
    process_tree "$1" | wc -l
}

# Milliseconds since the epoch.
now_ms() {
    date +%s%3N
}
