-- wrk script for scripts/reliability/reload: rotates through texts and checks every answer is
-- one of the labels the two alternating models give that text. One connection per thread, so
-- answers arrive in request order on each connection.
--   wrk -t2 -c2 ... -s reload.lua URL -- CASES_FILE
-- CASES_FILE lines: <percent-encoded path>\t<label of model A>\t<label of model B>

local cases = {}
local sent = {}
local head = 1
local counter = 0
wrong = 0
non_200 = 0
checked = 0
local threads = {}
-- Counters are globals so that done() can read each thread's with thread:get().

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    for line in io.lines(args[1]) do
        local path, a, b = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
        if path then
            cases[#cases + 1] = { path = path, a = a, b = b }
        end
    end
    counter = math.random(#cases)
end

function request()
    counter = counter % #cases + 1
    sent[#sent + 1] = counter
    return wrk.format("GET", "/classify/" .. cases[counter].path)
end

function response(status, headers, body)
    local case = cases[sent[head]]
    sent[head] = nil
    head = head + 1
    checked = checked + 1
    if status ~= 200 then
        non_200 = non_200 + 1
        return
    end
    local label = body:gsub("%s+$", "")
    if label ~= case.a and label ~= case.b then
        wrong = wrong + 1
    end
end

function done(summary, latency, requests)
    local totals = { checked = 0, wrong = 0, non_200 = 0 }
    for _, thread in ipairs(threads) do
        totals.checked = totals.checked + thread:get("checked")
        totals.wrong = totals.wrong + thread:get("wrong")
        totals.non_200 = totals.non_200 + thread:get("non_200")
    end
    io.write(string.format(
        "RELOAD-RESULT requests=%d checked=%d wrong=%d non_200=%d socket_errors=%d\n",
        summary.requests, totals.checked, totals.wrong, totals.non_200,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
