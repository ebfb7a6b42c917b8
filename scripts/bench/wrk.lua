-- wrk script for scripts/bench/run: rotates through a file of request paths (one per line,
-- already percent-encoded) and prints one machine-readable result line at the end.
--   wrk ... -s wrk.lua http://127.0.0.1:PORT -- PATHS_FILE PREFIX
-- With a third argument `post`, the file's lines are JSON bodies POSTed to the path PREFIX (the
-- Open Inference Protocol runs):
--   wrk ... -s wrk.lua http://127.0.0.1:PORT -- BODIES_FILE PATH post
-- Each thread starts at a different place in the list.

local paths = {}
local prefix = ""
local post = false
local json = { ["Content-Type"] = "application/json" }
local counter = 0
local next_thread = 0

function setup(thread)
    thread:set("thread_number", next_thread)
    next_thread = next_thread + 1
end

function init(args)
    prefix = args[2] or "/"
    post = args[3] == "post"
    for line in io.lines(args[1]) do
        if line ~= "" then
            paths[#paths + 1] = line
        end
    end
    if #paths == 0 then
        error("no paths in " .. args[1])
    end
    counter = ((thread_number or 0) * 7919) % #paths
end

function request()
    counter = counter % #paths + 1
    if post then
        return wrk.format("POST", prefix, json, paths[counter])
    end
    return wrk.format("GET", prefix .. paths[counter])
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'WRK-RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, ' ..
        '"p99_us": %d, "mean_us": %.1f, "max_us": %d, "errors_connect": %d, ' ..
        '"errors_read": %d, "errors_write": %d, "errors_timeout": %d, "errors_status": %d}\n',
        summary.requests, summary.duration, summary.bytes, latency:percentile(50),
        latency:percentile(99), latency.mean, latency.max, e.connect, e.read, e.write,
        e.timeout, e.status))
end
