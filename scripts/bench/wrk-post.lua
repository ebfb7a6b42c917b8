-- wrk script for scripts/bench/run's Open Inference Protocol runs: POSTs the JSON bodies of a
-- file (one per line) to one path in turn, and prints the same result line as wrk.lua.
--   wrk ... -s wrk-post.lua http://127.0.0.1:PORT -- BODIES_FILE PATH
-- Each thread starts at a different place in the list.

local bodies = {}
local path = "/"
local counter = 0
local next_thread = 0
local headers = { ["Content-Type"] = "application/json" }

function setup(thread)
    thread:set("thread_number", next_thread)
    next_thread = next_thread + 1
end

function init(args)
    path = args[2] or "/"
    for line in io.lines(args[1]) do
        if line ~= "" then
            bodies[#bodies + 1] = line
        end
    end
    if #bodies == 0 then
        error("no bodies in " .. args[1])
    end
    counter = ((thread_number or 0) * 7919) % #bodies
end

function request()
    counter = counter % #bodies + 1
    return wrk.format("POST", path, headers, bodies[counter])
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
