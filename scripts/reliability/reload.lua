-- wrk script for scripts/reliability/reload. Each thread sends one text again and again (so an
-- answer can be checked without knowing which request it answers, even across reconnects) and
-- checks that every answer is 200 and one of the labels the two alternating models give it.
--   wrk -tN -cN ... -s reload.lua URL -- CASES_FILE
-- CASES_FILE lines: <percent-encoded text>\t<label of model A>\t<label of model B>

local threads = {}
local next_id = 1

function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end

-- Counters are globals so that done() can read each thread's with thread:get().
wrong = 0
non_200 = 0
checked = 0
local path, label_a, label_b

function init(args)
    local cases = {}
    for line in io.lines(args[1]) do
        local p, a, b = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
        if p then
            cases[#cases + 1] = { p, a, b }
        end
    end
    local case = cases[(id - 1) % #cases + 1]
    path, label_a, label_b = "/classify/" .. case[1], case[2], case[3]
end

-- One request per connection: a keep-alive connection that a graceful restart closes just as the
-- client reuses it loses that request in flight (HTTP lets clients retry it, wrk does not), which
-- would say nothing about the server.
function request()
    return wrk.format("GET", path, { ["Connection"] = "close" })
end

function response(status, headers, body)
    checked = checked + 1
    if status ~= 200 then
        non_200 = non_200 + 1
        return
    end
    local label = body:gsub("%s+$", "")
    if label ~= label_a and label ~= label_b then
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
