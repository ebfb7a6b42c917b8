# Helpers shared by scripts/bench/run and scripts/bench/micro. Source it; it defines functions only.
# Servers are started, measured and stopped by scripts/lib/httpd.py.
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
