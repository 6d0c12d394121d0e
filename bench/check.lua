-- wrk script: POST the benchmark query like bench/post.lua, and compare
-- every answer with the one checked against expected-response.json before
-- the run (MESHWORK_BENCH_ANSWER): prints "wrong answers: N" at the end.
local file = io.open(os.getenv("MESHWORK_BENCH_BODY"), "r")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = file:read("*a")
file:close()
local token = os.getenv("MESHWORK_BENCH_TOKEN")
if token then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local answer = io.open(os.getenv("MESHWORK_BENCH_ANSWER"), "r")
  expected = answer:read("*a")
  answer:close()
  wrong = 0
  checked = 0
end

function response(status, headers, body)
  checked = checked + 1
  if status ~= 200 or body ~= expected then
    wrong = wrong + 1
  end
end

function done(summary, latency, requests)
  local w, c = 0, 0
  for _, t in ipairs(threads) do
    w = w + t:get("wrong")
    c = c + t:get("checked")
  end
  io.write(string.format("checked answers: %d\nwrong answers: %d\n", c, w))
end
