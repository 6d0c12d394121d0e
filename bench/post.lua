-- wrk script: POST the benchmark query (bench/fixtures/query.graphql) as JSON.
local file = io.open(os.getenv("MESHWORK_BENCH_BODY"), "r")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = file:read("*a")
local token = os.getenv("MESHWORK_BENCH_TOKEN")
if token then
  wrk.headers["Authorization"] = "Bearer " .. token
end
file:close()
